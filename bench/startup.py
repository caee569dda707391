"""Startup latency of the tplus command line (median wall time of fresh processes).

Usage: .venv/bin/python bench/startup.py [--runs N] [--lived-in HOURS]

Every figure is a whole process (`tplus ...` as a user or a TAB completion runs it), in a
throwaway config/data dir. Targets: --version and completion <= 150 ms, --help <= 300 ms,
embedded order placement <= 300 ms. Figures are printed, never asserted (tests don't time).

`--lived-in HOURS` first runs the embedded venue's simulator over HOURS of venue time ending
now (a stepped clock, ticking every 250 ms as a live venue does), so placement is also
measured on a store that has been in use, with its snapshots, journal and events, not only
on a fresh one.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGETS_MS = {
    "tplus --version": 150,
    "completion query (tplus keys <TAB>)": 150,
    "tplus --help": 300,
    "tplus order place ... --dry-run (embedded)": 300,
    "tplus order place ... (embedded)": 300,
}


def _tplus() -> list[str]:
    exe = Path(sys.executable).with_name("tplus")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("tplus")
    return [found] if found else [sys.executable, "-m", "tplus_cli.app"]


def _time(cmd: list[str], env: dict[str, str], runs: int) -> tuple[float | None, str]:
    """Median ms over `runs` after one warm-up; (None, reason) if the command fails."""
    warm = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if warm.returncode != 0:
        last = (warm.stderr.strip().splitlines() or ["no output"])[-1]
        return None, f"exit {warm.returncode}: {last}"
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, env=env, capture_output=True, check=True)
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), ""


def prepare_lived_in(data_dir: Path, hours: float) -> str:
    """Simulate `hours` of venue activity ending now into the embedded store; a summary line."""
    from tplus_cli.venue.clock import StepClock
    from tplus_cli.venue.embedded import store_path
    from tplus_cli.venue.handlers import TICK_EVERY_NS, Venue
    from tplus_cli.venue.store import Store

    ticks = int(hours * 3600e9) // TICK_EVERY_NS
    clock = StepClock(time.time_ns() - ticks * TICK_EVERY_NS)
    path = store_path(data_dir)
    started = time.perf_counter()
    with Store(path) as store:
        venue = Venue(store, clock, simulate=True)
        for _ in range(ticks):
            clock.advance(TICK_EVERY_NS)
            venue.tick()
        counts = store.counts()
    size = sum(f.stat().st_size for f in path.parent.glob(path.name + "*")) / 1e6
    return (
        f"lived-in store: {hours:g} h of simulated activity in {time.perf_counter() - started:.0f} s;"
        f" {venue.replica.seq:,} commands, rows {counts}, {size:.1f} MB on disk"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument(
        "--lived-in", type=float, default=0.0, metavar="HOURS", help="simulate HOURS first"
    )
    parser.add_argument(
        "--no-bytecode",
        action="store_true",
        help="honour PYTHONDONTWRITEBYTECODE (every run compiles from source)",
    )
    args = parser.parse_args()
    tplus = _tplus()
    with tempfile.TemporaryDirectory() as tmp:
        if args.lived_in > 0:
            print(prepare_lived_in(Path(tmp) / "data", args.lived_in))
        env = {k: v for k, v in os.environ.items() if not k.startswith("TPLUS_")}
        env.update(TPLUS_CONFIG_DIR=f"{tmp}/config", TPLUS_DATA_DIR=f"{tmp}/data", NO_COLOR="1")
        if not args.no_bytecode:
            # As installed: pip writes .pyc files at install time. A dev shell exporting
            # PYTHONDONTWRITEBYTECODE would otherwise recompile every module on every run.
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = f"{tmp}/pycache"
        complete = {
            **env,
            "_TPLUS_COMPLETE": "complete_bash",
            "COMP_WORDS": "tplus keys ",
            "COMP_CWORD": "2",
        }
        place = [
            *tplus,
            "-q",
            "order",
            "place",
            "BTC",
            "buy",
            "0.01",
            "--price",
            "50000",
            "-o",
            "json",
        ]
        cases = [
            ("tplus --version", [*tplus, "--version"], env),
            ("completion query (tplus keys <TAB>)", tplus, complete),
            ("tplus --help", [*tplus, "--help"], env),
            ("tplus order place ... --dry-run (embedded)", [*place, "--dry-run"], env),
            ("tplus order place ... (embedded)", place, env),
        ]
        print(
            f"machine: {platform.machine()}, {os.cpu_count()} cpu, {platform.system()} {platform.release()}"
        )
        print(
            f"python {platform.python_version()}; {args.runs} runs each, median after one warm-up;"
            f" bytecode {'not cached' if args.no_bytecode else 'cached'};"
            f" load average {os.getloadavg()[0]:.2f} at start\n"
        )
        print(f"{'command':48} {'median ms':>10} {'target':>8}")
        for label, cmd, case_env in cases:
            ms, why = _time(cmd, case_env, args.runs)
            target = TARGETS_MS[label]
            if ms is None:
                print(f"{label:48} {'skipped':>10} {target:>8}   ({why})")
            else:
                flag = "" if ms <= target else "   OVER TARGET"
                print(f"{label:48} {ms:>10.0f} {target:>8}{flag}")
        print(f"\nload average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()

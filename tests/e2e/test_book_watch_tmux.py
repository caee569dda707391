"""`tplus book BTC --watch` in a real terminal (tmux): an order placed elsewhere shows up, `q` quits 0."""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

pytestmark = [pytest.mark.tmux, pytest.mark.slow]

TIMEOUT = 20.0 * float(os.environ.get("TPLUS_TEST_TIMEOUT_FACTOR", "1"))
POLL_S = 0.05
REPO = Path(__file__).resolve().parents[2]


def sub_env() -> dict[str, str]:
    """Every process shares the sealed data/config dirs and the file key store (no keyring)."""
    return {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}


def tplus(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tplus_cli.app", *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=sub_env(),
    )


class Tmux:
    """A private tmux server (own socket) with one 120x40 session."""

    def __init__(self, socket: Path) -> None:
        self.socket = socket

    def __call__(self, *args: str) -> str:
        out = subprocess.run(
            ["tmux", "-S", str(self.socket), *args],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=True,
        )
        return out.stdout

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", "watch")

    def wait_for(self, ok: Callable[[str], bool], what: str) -> str:
        """Poll the pane until `ok(screen)` (bounded); fail with the last screen."""
        deadline = time.monotonic() + TIMEOUT
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if ok(screen):
                return screen
            time.sleep(POLL_S)
        raise AssertionError(f"timed out waiting for {what}; screen was:\n{screen}")


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    if shutil.which("tmux") is None:
        pytest.fail("tmux is required for this test (apt-get install tmux)")
    t = Tmux(tmp_path / "tmux.sock")
    yield t
    subprocess.run(["tmux", "-S", str(t.socket), "kill-server"], capture_output=True)


def _watch_command(symbol: str, exit_file: Path, stty_file: Path) -> str:
    """A shell line for the tmux pane: `book SYMBOL --watch` in our environment, then record
    its exit code and the terminal modes it left behind, and keep the pane open."""
    wanted = ("TPLUS_", "PYTHON", "NO_COLOR", "PATH", "HOME", "LANG", "LC_")
    env = " ".join(f"{k}={shlex.quote(v)}" for k, v in sub_env().items() if k.startswith(wanted))
    return (
        f"cd {shlex.quote(str(REPO))} && env {env} {shlex.quote(sys.executable)} -m tplus_cli.app "
        f"book {symbol} --watch; code=$?; stty -a > {shlex.quote(str(stty_file))}; "
        f"echo EXIT=$code > {shlex.quote(str(exit_file))}; sleep 60"
    )


def test_watch_shows_an_order_placed_from_another_process_and_q_quits(
    tmux: Tmux, tmp_path: Path
) -> None:
    """The view fits the terminal and follows a resize; it marks our order at its level after
    it is placed elsewhere; `-` shrinks it; `q` exits 0 with the terminal back in canonical mode."""
    assert tplus("order", "list", "-o", "json").returncode == 0  # creates the paper key
    exit_file, stty_file = tmp_path / "exit", tmp_path / "stty"
    command = _watch_command("BTC", exit_file, stty_file)
    tmux("new-session", "-d", "-s", "watch", "-x", "120", "-y", "14", command)
    tmux.wait_for(lambda s: "[live]" in s and "depth 4 " in s, "a live view fitted to 14 rows")
    tmux("resize-window", "-t", "watch", "-x", "120", "-y", "40")
    tmux.wait_for(lambda s: "depth 10 " in s, "the view to grow after the resize")

    placed = tplus("order", "place", "BTC", "buy", "0.01", "--price", "50123.5", "-o", "json")
    assert placed.returncode == 0, placed.stderr

    def order_row_shown(screen: str) -> bool:
        return any("50123.5" in line and "< mine 0.01" in line for line in screen.splitlines())

    screen = tmux.wait_for(order_row_shown, "the order level with its marker")
    assert "BTC" in screen.splitlines()[0]

    tmux("send-keys", "-t", "watch", "-")
    tmux.wait_for(lambda s: "depth 9" in s, "depth to shrink on '-'")
    tmux("send-keys", "-t", "watch", "q")
    deadline = time.monotonic() + TIMEOUT
    while not (exit_file.exists() and exit_file.read_text().strip()):
        assert time.monotonic() < deadline, f"watch did not exit; screen:\n{tmux.screen()}"
        time.sleep(POLL_S)
    assert exit_file.read_text().strip() == "EXIT=0"
    modes = stty_file.read_text().split()
    assert "icanon" in modes and "echo" in modes  # cbreak undone


def test_sigterm_stops_the_view_and_restores_the_terminal(tmux: Tmux, tmp_path: Path) -> None:
    """A termination signal ends the live view cleanly: exit 130, terminal back to normal."""
    exit_file, stty_file = tmp_path / "exit", tmp_path / "stty"
    command = _watch_command("ETH", exit_file, stty_file)
    tmux("new-session", "-d", "-s", "watch", "-x", "120", "-y", "30", command)
    tmux.wait_for(lambda s: "[live]" in s, "the view to go live")
    shell = int(tmux("display-message", "-p", "-t", "watch", "#{pane_pid}").strip())
    children = Path(f"/proc/{shell}/task/{shell}/children").read_text().split()
    [view_pid] = [int(pid) for pid in children]
    os.kill(view_pid, signal.SIGTERM)
    deadline = time.monotonic() + TIMEOUT
    while not (exit_file.exists() and exit_file.read_text().strip()):
        assert time.monotonic() < deadline, f"view did not stop; screen:\n{tmux.screen()}"
        time.sleep(POLL_S)
    assert exit_file.read_text().strip() == "EXIT=130"
    modes = stty_file.read_text().split()
    assert "icanon" in modes and "echo" in modes

"""Shell completions: the committed scripts match the app, and TAB completes keys and symbols.

Regenerate after changing the app with: TPLUS_UPDATE_COMPLETIONS=1 pytest tests/test_completions.py
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHELLS = ("bash", "zsh", "fish")


def _run(env_extra: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **env_extra, "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    return subprocess.run(
        [sys.executable, "-m", "tplus_cli.app", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("shell", SHELLS)
def test_completion_scripts_do_not_drift(shell: str) -> None:
    """completions/tplus.<shell> is exactly what `tplus --show-completion=<shell>` prints."""
    proc = _run({}, f"--show-completion={shell}")
    assert proc.returncode == 0, proc.stderr
    path = ROOT / "completions" / f"tplus.{shell}"
    if os.environ.get("TPLUS_TEST_UPDATE_COMPLETIONS") or os.environ.get(
        "TPLUS_UPDATE_COMPLETIONS"
    ):
        path.write_text(proc.stdout)
    assert path.read_text() == proc.stdout, "stale: regenerate with TPLUS_UPDATE_COMPLETIONS=1"


def _bash_complete(words: str) -> list[str]:
    parts = words.split(" ")
    proc = _run(
        {"_TPLUS_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": str(len(parts) - 1)}
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()


def test_subcommands_complete() -> None:
    """`tplus ke<TAB>` completes to keys."""
    assert _bash_complete("tplus ke") == ["keys"]


def test_key_names_complete_from_keys_toml(sealed_env: Path) -> None:
    """`tplus keys show <TAB>` lists key names from keys.toml without touching the keyring."""
    config = sealed_env / "config"
    config.mkdir()
    (config / "keys.toml").write_text(
        '[main]\npublic_key = "aa"\nstorage = "keyring"\n[mint]\npublic_key = "bb"\nstorage = "keyring"\n'
        '[other]\npublic_key = "cc"\nstorage = "keyring"\n'
    )
    assert _bash_complete("tplus keys show m") == ["main", "mint"]


def test_symbols_complete_without_the_venue() -> None:
    """The symbol completer offers the canonical assets, case-insensitively."""
    from tplus_cli.commands._options import complete_symbol

    assert complete_symbol("b") == ["btc"]
    assert complete_symbol("S") == ["SOL"]
    assert _bash_complete("tplus markets show e") == ["eth"]
    assert complete_symbol("") == ["BTC", "ETH", "SOL", "USDC"]


def test_completion_loads_nothing_heavy() -> None:
    """A TAB completion imports neither pydantic (Typer's coercion) nor the network stack."""
    code = (
        "import sys\n"
        "from tplus_cli.app import run\n"
        "run([])\n"
        "sys.stderr.write('\\n'.join(sorted(sys.modules)))\n"
    )
    env = {
        **os.environ,
        "_TPLUS_COMPLETE": "complete_bash",
        "COMP_WORDS": "tplus keys ",
        "COMP_CWORD": "2",
    }
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert sorted(proc.stdout.split()) == [
        "delete",
        "export",
        "import",
        "list",
        "new",
        "show",
        "sign",
        "use",
    ]
    loaded = set(proc.stderr.split())
    heavy = {
        "pydantic",
        "httpx",
        "websockets",
        "nacl",
        "keyring",
        "sqlite3",
        "rich.live",
        "tplus_cli.venue",
    }
    assert loaded & heavy == set()

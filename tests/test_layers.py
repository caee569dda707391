"""Layer rules of architecture.md, checked on every import statement (module level or not).

Ruff (the nested ruff.toml files) bans the obvious modules per layer; this test adds the rules
ruff cannot express: allow-lists of client leaves, and modules confined to one file.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "tplus_cli"

# The client's pure leaves: no httpx, no sockets; the venue and render may use them.
PURE_CLIENT = {
    "tplus_cli.client.signing",
    "tplus_cli.client.units",
    "tplus_cli.client.assets",
    "tplus_cli.client.wire",
    "tplus_cli.client.wire_values",
    "tplus_cli.client.wire_account",
    "tplus_cli.client.book",
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> Iterator[str]:
    """Every module an import statement in `path` names (`from a import b` yields a and a.b)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module_name(path).rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def modules(layer: str) -> list[Path]:
    return sorted((PACKAGE / layer).glob("*.py"))


def within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def offending(path: Path, banned: tuple[str, ...]) -> list[str]:
    return sorted({n for n in imports(path) if any(within(n, b) for b in banned)})


OUTSIDE_CLIENT = (
    "tplus_cli.config",
    "tplus_cli.render",
    "tplus_cli.commands",
    "tplus_cli.venue",
    "tplus_cli.runtime",
    "tplus_cli.app",
)


@pytest.mark.parametrize("path", modules("client"), ids=lambda p: p.name)
def test_client_knows_no_terminal_config_or_venue(path: Path) -> None:
    """client/* imports stdlib, httpx, websockets, nacl and its siblings only."""
    banned = ("typer", "rich", "click", "keyring", "starlette", "uvicorn", *OUTSIDE_CLIENT)
    assert offending(path, banned) == []


@pytest.mark.parametrize("path", modules("venue"), ids=lambda p: p.name)
def test_venue_knows_no_cli_and_only_pure_client_leaves(path: Path) -> None:
    """venue/* never imports the CLI layers, and from the client only its pure leaves."""
    banned = ("typer", "rich", "click", "keyring", *OUTSIDE_CLIENT[:3], *OUTSIDE_CLIENT[4:])
    assert offending(path, banned) == []
    client = {n for n in imports(path) if within(n, "tplus_cli.client")}
    impure = {n for n in client if n != "tplus_cli.client" and not _is_pure(n)}
    assert impure == set()
    if path.name != "server.py":
        assert offending(path, ("starlette", "uvicorn")) == []
    if path.name != "embedded.py":
        assert offending(path, ("httpx", "websockets")) == []


def _is_pure(name: str) -> bool:
    return any(within(name, leaf) for leaf in PURE_CLIENT)


@pytest.mark.parametrize("path", modules("render"), ids=lambda p: p.name)
def test_render_has_no_network_and_no_typer(path: Path) -> None:
    """render/* turns models into text: no network, no venue, no config, no typer."""
    banned = ("httpx", "websockets", "nacl", "keyring", "sqlite3", "typer", "click")
    others = tuple(m for m in OUTSIDE_CLIENT if m != "tplus_cli.render")
    assert offending(path, (*banned, *others)) == []
    client = {n for n in imports(path) if within(n, "tplus_cli.client")}
    assert {n for n in client if not _is_pure(n)} == set()


@pytest.mark.parametrize("path", modules("config"), ids=lambda p: p.name)
def test_config_imports_neither_client_nor_render(path: Path) -> None:
    """config/* stands alone; keyring is imported only by keystore.py."""
    banned = ("httpx", "websockets", "typer", "rich", *OUTSIDE_CLIENT[1:], "tplus_cli.client")
    assert offending(path, banned) == []
    if path.name != "keystore.py":
        assert offending(path, ("keyring",)) == []


def test_errors_module_imports_nothing_from_tplus() -> None:
    """errors.py is the root every layer may raise from, so it depends on nothing of ours."""
    assert offending(PACKAGE / "errors.py", ("tplus_cli",)) == []


def test_only_runtime_knows_both_client_and_venue() -> None:
    """Outside the venue itself, only runtime.py (the composition root) imports the venue."""
    users = [
        p.relative_to(PACKAGE).as_posix()
        for p in PACKAGE.rglob("*.py")
        if "venue" not in p.relative_to(PACKAGE).parts[:1]
        and any(within(n, "tplus_cli.venue") for n in imports(p))
    ]
    assert sorted(users) == ["commands/venue.py", "runtime.py"]

"""Every command documents itself: a one-line summary and at least one example in --help."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import typer.main

from tplus_cli.app import app


def _leaves(command: Any, path: list[str]) -> Iterator[tuple[str, Any]]:
    subcommands = getattr(command, "commands", None)
    if subcommands:
        for name, sub in sorted(subcommands.items()):
            yield from _leaves(sub, [*path, name])
    else:
        yield " ".join(path), command


LEAVES = list(_leaves(typer.main.get_command(app), ["tplus"]))


def test_tree_is_not_empty() -> None:
    """The walk finds the command groups this part owns."""
    names = {name for name, _ in LEAVES}
    assert {"tplus keys new", "tplus profile show"} <= names


@pytest.mark.parametrize(("name", "command"), LEAVES, ids=[n for n, _ in LEAVES])
def test_command_has_summary_and_example(name: str, command: Any) -> None:
    """The help starts with a short summary line and shows an `Example:`."""
    text = command.help or ""
    first_line = text.strip().splitlines()[0] if text.strip() else ""
    summary = first_line.split("Example:")[0].strip()
    assert summary, f"{name}: no help text"
    assert len(summary) <= 80, f"{name}: summary longer than 80 characters"
    assert "Example:" in text, f"{name}: no 'Example:' in its help"

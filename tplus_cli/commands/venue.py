"""`tplus venue` commands (to be filled in by the owner of this group)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Attach this group's commands to the root app."""

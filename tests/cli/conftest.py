"""The `tplus` fixture: run the real CLI boundary (`app.run`) in-process with captured streams."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from typer.testing import CliRunner


@dataclass(frozen=True)
class Result:
    """What one `tplus` invocation did: exit code, stdout and stderr."""

    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        """stdout parsed as JSON."""
        return json.loads(self.stdout)

    def error(self) -> dict[str, Any]:
        """The JSON error object from stderr (json output)."""
        doc = json.loads(self.stderr.strip().splitlines()[-1])
        assert isinstance(doc, dict)
        err = doc["error"]
        assert isinstance(err, dict)
        return err


Tplus = Callable[..., Result]


def invoke(
    args: str | Sequence[str], *, input: str | None = None, env: Mapping[str, str] | None = None
) -> Result:
    """Run `tplus ARGS` through the same `run()` the console script uses."""
    from tplus_cli.app import run

    argv = shlex.split(args) if isinstance(args, str) else list(args)
    runner = CliRunner()
    with runner.isolation(input=input, env=dict(env or {})) as (out, err, _):
        code = run(argv)
        import sys

        sys.stdout.flush()
        sys.stderr.flush()
        stdout, stderr = out.getvalue().decode(), err.getvalue().decode()
    return Result(code, stdout, stderr)


@pytest.fixture
def tplus() -> Tplus:
    """`tplus("keys list -o json")` -> Result; exceptions inside the CLI are NOT swallowed
    beyond what the real boundary does (so a bug shows as exit 1 with a one-line message)."""
    return invoke

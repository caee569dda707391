"""A reader that goes away (`tplus stream … | head -1`) ends the command quietly with exit 0."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_stream_into_a_closed_pipe_exits_0_without_a_traceback(sealed_env: Path) -> None:
    """After the reader closes the pipe, the stream stops with exit 0 and nothing on stderr but status."""
    env = dict(os.environ)
    proc = subprocess.Popen(
        [sys.executable, "-m", "tplus_cli.app", "stream", "book", "BTC", "--depth", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    assert first.startswith(b'{"stream":"book"')
    proc.stdout.close()  # the reader goes away, as `head -1` does
    try:
        rc = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    err = proc.stderr.read().decode()
    assert rc == 0, err
    assert "Traceback" not in err

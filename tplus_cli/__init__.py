"""tplus: a command-line trading tool for the T+ order-management system."""

import sys

__version__ = "0.1.0"

# httpx's __init__ runs `from ._main import main` (its own CLI: click, rich, pygments; ~45 ms)
# and falls back to a stub `main` on ImportError, the path it takes when the `httpx[cli]` extra
# is missing. click and rich are installed here for other reasons (uvicorn, typer), so without
# this every client start paid for a CLI tplus never runs. A None entry in sys.modules makes
# that one import raise ImportError (documented import-system behaviour); nothing else in
# httpx uses _main. Only done before httpx is first imported, and never over a loaded module.
if "httpx" not in sys.modules:
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

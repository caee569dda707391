"""The async T+ client: usable as a library, knows nothing of terminals or config.

`from tplus_cli.client import TplusClient` is resolved lazily so that importing a pure
leaf such as `tplus_cli.client.signing` does not pull in httpx.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tplus_cli.client.api import TplusClient

__all__ = ["TplusClient"]


def __getattr__(name: str) -> Any:
    if name == "TplusClient":
        from tplus_cli.client.api import TplusClient

        return TplusClient
    raise AttributeError(name)

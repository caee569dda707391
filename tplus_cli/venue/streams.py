"""WebSocket paths (spec §8.3) → event channels of the store, and how each frame is shaped.

| Path                          | Auth | Channels               | Frame                          |
|-------------------------------|------|------------------------|--------------------------------|
| /orders                       | R    | orders/<token user>    | OrderEvent                     |
| /trades/user/events/{pk}      | R    | user_trades/<pk>       | UserTrade, any status          |
| /trades/user/{pk}             | R    | user_trades/<pk>       | UserTrade, finalized only      |
| /account/events/{pk}          | R    | account/<pk>           | UserActivityEvent              |
| /positions/ws/{pk}            | R    | positions/<pk>         | PositionUpdate (full snapshot) |
| /trades                       | O    | trades/*               | Trade (public)                 |
| /marketdepth/diff/{asset}     | O    | depth/<asset>          | OrderBookDiff                  |
| /klines/diff/{asset}          | O    | klines/<asset>         | JSON array of Timebar          |
| /ticker/ws/{asset}            | O    | ticker/<asset>         | Ticker                         |
| /tickers/ws                   | O    | ticker/*               | JSON array of Ticker           |

R paths with a {pk} accept only the token's own user.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MAX_FRAME_BYTES = 1 << 20  # tpluspy's websockets client refuses larger messages


@dataclass(frozen=True)
class Subscription:
    """An accepted stream: which channels it follows and how payloads become frames."""

    path: str
    channels: tuple[str, ...]
    as_array: bool = False
    finalized_only: bool = False

    def matches(self, channel: str) -> bool:
        """Whether an event on `channel` belongs to this stream."""
        for c in self.channels:
            if c == channel or (c.endswith("*") and channel.startswith(c[:-1])):
                return True
        return False

    def frame(self, payload: Any) -> str | None:
        """The text frame for one event payload, or None if this stream skips it."""
        if self.finalized_only and isinstance(payload, dict) and payload.get("status") == "Pending":
            return None
        if self.as_array and not isinstance(payload, list):
            payload = [payload]
        text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
        return text if len(text.encode("utf-8")) <= MAX_FRAME_BYTES else None


@dataclass(frozen=True)
class StreamRoute:
    """One stream path pattern and the subscription it yields."""

    pattern: re.Pattern[str]
    private: bool  # R: needs a valid token (and {pk} == the token's user)
    build: Callable[[str, dict[str, str]], Subscription]


def _route(
    regex: str, private: bool, build: Callable[[str, dict[str, str]], Subscription]
) -> StreamRoute:
    return StreamRoute(re.compile(regex), private, build)


STREAM_ROUTES: tuple[StreamRoute, ...] = (
    _route(r"/orders", True, lambda p, g: Subscription(p, (f"orders/{g['user']}",))),
    _route(
        r"/trades/user/events/(?P<pk>[^/]+)",
        True,
        lambda p, g: Subscription(p, (f"user_trades/{g['pk']}",)),
    ),
    _route(
        r"/trades/user/(?P<pk>[^/]+)",
        True,
        lambda p, g: Subscription(p, (f"user_trades/{g['pk']}",), finalized_only=True),
    ),
    _route(
        r"/account/events/(?P<pk>[^/]+)",
        True,
        lambda p, g: Subscription(p, (f"account/{g['pk']}",)),
    ),
    _route(
        r"/positions/ws/(?P<pk>[^/]+)",
        True,
        lambda p, g: Subscription(p, (f"positions/{g['pk']}",)),
    ),
    _route(r"/trades", False, lambda p, g: Subscription(p, ("trades/*",))),
    _route(
        r"/marketdepth/diff/(?P<asset>[^/]+)",
        False,
        lambda p, g: Subscription(p, (f"depth/{g['asset']}",)),
    ),
    _route(
        r"/klines/diff/(?P<asset>[^/]+)",
        False,
        lambda p, g: Subscription(p, (f"klines/{g['asset']}",), as_array=True),
    ),
    _route(
        r"/ticker/ws/(?P<asset>[^/]+)",
        False,
        lambda p, g: Subscription(p, (f"ticker/{g['asset']}",)),
    ),
    _route(r"/tickers/ws", False, lambda p, g: Subscription(p, ("ticker/*",), as_array=True)),
)

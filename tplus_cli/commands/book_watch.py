"""Entry points for the live views: `tplus book SYMBOL --watch` and `tplus order list --watch`.

On a terminal: a Rich live view (book: asks/bids with size bars, cumulative depth, spread,
mid, last trade, 24 h change, your resting orders marked, connection state; `+`/`-` change
depth, `q` quits). When stdout is not a terminal (or -o json/ndjson): one NDJSON envelope
`{"stream","seq","ts","data"}` per change, throttled to 20 a second. Ctrl-C exits 130.
The implementation lives in `_watch.py` and is imported only when a watch starts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tplus_cli.runtime import Runtime


def run_watch(rt: Runtime, symbol: str, depth: int) -> None:
    """Run the live order-book view of `symbol` until `q` or Ctrl-C."""
    from tplus_cli.commands._watch import watch_book

    rt.run(watch_book(rt, symbol, depth))


def run_orders_watch(rt: Runtime, symbol: str | None) -> None:
    """Run the live open-orders view (all markets or `symbol`) until `q` or Ctrl-C."""
    from tplus_cli.commands._watch import watch_orders

    rt.run(watch_orders(rt, symbol))

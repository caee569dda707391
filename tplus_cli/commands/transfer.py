"""`tplus transfer ASSET AMOUNT --from N --to M`: move funds between your sub-accounts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from tplus_cli.commands import _options
from tplus_cli.errors import RejectedError, UsageError

if TYPE_CHECKING:
    from decimal import Decimal

    from tplus_cli.runtime import Runtime

TRANSFER_COLUMNS = ("symbol", "amount", "from_sub_account", "to_sub_account", "status")


async def _transfer(
    rt: Runtime, asset: str, amount: Decimal, source: int, target: int
) -> dict[str, Any]:
    async with rt.client(signing=True) as client:
        asset_id = await client.resolve_asset(asset)
        assets = await client.assets()
        symbol = assets[asset_id].symbol if asset_id in assets else asset_id
        rt.confirm(f"Transfer {amount} {symbol} from sub-account {source} to {target}?")
        reply = await client.transfer(asset_id, amount, source, target)
    if reply.get("success") is False:
        raise RejectedError(f"transfer refused: {reply.get('details') or reply}", code="REJECTED")
    return {
        "asset_id": asset_id,
        "symbol": symbol,
        "amount": amount,
        "from_sub_account": source,
        "to_sub_account": target,
        "status": "done",
    }


def transfer(
    ctx: typer.Context,
    asset: _options.SymbolArg,
    amount: str = typer.Argument(..., help="Amount in human units (100.5)."),
    source: int = typer.Option(..., "--from", min=0, help="Source sub-account.", metavar="N"),
    target: int = typer.Option(..., "--to", min=0, help="Target sub-account.", metavar="M"),
) -> None:
    """Move funds between two of your sub-accounts (asks first).

    Example: tplus transfer USDC 1000 --from 0 --to 1 --yes
    """
    from tplus_cli.commands._order_input import parse_amount

    value = parse_amount(amount, what="amount")
    if source == target:
        raise UsageError(f"--from and --to are both sub-account {source}")
    rt = _options.runtime(ctx)
    rt.emit(rt.run(_transfer(rt, asset, value, source, target)), columns=TRANSFER_COLUMNS)


def register(app: typer.Typer) -> None:
    """Attach `tplus transfer` to the root app."""
    # Let "-5" reach the amount check instead of failing as an unknown option.
    settings = {"ignore_unknown_options": True}
    app.command("transfer", context_settings=settings)(_options.command_options(transfer))

"""`tplus balances`: per-asset available/held/total, plus margin and solvency per sub-account.

Shapes for scripts (-o json): a list of rows {sub_account, asset_id, symbol, available, held,
total}; with `--summary`, one row per sub-account {sub_account, kind, equity,
available_margin, utilized_margin, unrealized_pnl, is_solvent, is_liquidatable,
distance_from_liquidation}. A table shows the balances and one summary line per sub-account.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from tplus_cli.commands import _options
from tplus_cli.errors import UsageError

if TYPE_CHECKING:
    from tplus_cli.client.api import TplusClient
    from tplus_cli.runtime import Runtime

DEFAULT_SUB_ACCOUNT = 1  # where orders go by default (tpluspy's target {account 1, spot})


async def _summaries(
    client: TplusClient, subs: list[int], kinds: dict[int, str]
) -> list[dict[str, Any]]:
    from tplus_cli.render.trading import account_summary_row

    margin = await client.margin()
    solvency = await client.solvency()
    accounts = {a.sub_account: a for a in margin.accounts}
    return [
        account_summary_row(sub, kinds.get(sub), accounts.get(sub), solvency.accounts.get(sub))
        for sub in subs
    ]


async def _load(
    rt: Runtime, sub_account: int | None, summary: bool
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    from tplus_cli.render.trading import balance_row

    async with rt.client(signing=True) as client:
        inventory = await client.inventory()
        symbols = {k: a.symbol for k, a in (await client.assets()).items()}
        balances = [
            b for b in inventory.balances if sub_account is None or b.sub_account == sub_account
        ]
        subs = sorted({b.sub_account for b in balances} | set(inventory.kinds))
        if sub_account is not None:
            subs = [sub_account]
        kinds = dict(inventory.kinds)
        summaries = await _summaries(client, subs, kinds) if summary else []
    return [balance_row(b, symbols) for b in balances], summaries


def balances(
    ctx: typer.Context,
    sub_account: int | None = typer.Option(
        None,
        "--sub-account",
        min=0,
        help=f"One sub-account (default {DEFAULT_SUB_ACCOUNT}).",
        metavar="N",
    ),
    all_accounts: bool = typer.Option(False, "--all", help="Every sub-account."),
    summary: bool = typer.Option(
        False, "--summary", help="Only margin and solvency, one row per sub-account."
    ),
) -> None:
    """Show balances: available, held and total per asset.

    Default: sub-account 1 (where orders go). Rows: sub_account, asset_id, symbol,
    available, held, total. --summary: one margin/solvency row per sub-account.

    Example: tplus balances --all -o json
    """
    from tplus_cli.render.trading import BALANCE_COLUMNS, SUMMARY_COLUMNS, summary_line

    if all_accounts and sub_account is not None:
        raise UsageError("give --sub-account N or --all, not both")
    chosen = None if all_accounts else (DEFAULT_SUB_ACCOUNT if sub_account is None else sub_account)
    rt = _options.runtime(ctx)
    table = rt.output_format == "table"
    rows, summaries = rt.run(_load(rt, chosen, summary or table))
    if summary:
        rt.emit(summaries, columns=SUMMARY_COLUMNS)
        return
    rt.emit(rows, columns=BALANCE_COLUMNS)
    if table:
        for line in (summary_line(s) for s in summaries):
            typer.echo(line)


def register(app: typer.Typer) -> None:
    """Attach `tplus balances` to the root app."""
    app.command("balances")(_options.command_options(balances))

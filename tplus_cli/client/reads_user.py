"""Reads beyond the core set: one asset's positions, multisig config, open interest, MDS history."""

from __future__ import annotations

from typing import Any, Literal

from tplus_cli.client import orders as build
from tplus_cli.client.errors import ServerError
from tplus_cli.client.reads import Reader
from tplus_cli.client.wire import Position, WireError, items_of, parse_position
from tplus_cli.client.wire_user import (
    DEFAULT_MULTISIG,
    HistoricalOrder,
    MultisigConfig,
    OpenInterest,
    PositionBasis,
    SubAccountName,
    parse_historical_order,
    parse_multisig_config,
    parse_open_interest,
    parse_position_basis,
    parse_sub_account_names,
)


class UserReader(Reader):
    """Per-user extras (OMS and MDS) and open interest; same retry and auth rules as Reader."""

    async def asset_positions(
        self, asset: str | int, *, sub_account: int | None = None
    ) -> list[Position]:
        """Our margin positions in one asset (`/positions/{pk}/{asset}`); an unknown user has none."""
        asset_id = await self.resolve_asset(asset)
        query: list[tuple[str, str]] = []
        if sub_account is not None:
            query.append(("sub_account", str(build.check_sub_account(sub_account))))
        path = f"/positions/{self._pk()}/{asset_id}"
        payload = await self._read_stored(path, auth="R", query=query)
        if payload is None:
            return []
        return [parse_position(p) for p in items_of(payload, "positions")]

    async def multisig_config(self) -> MultisigConfig:
        """Our signer weights and thresholds; none stored (NotFound) means the §2.6 default."""
        payload = await self._read_stored(f"/multisig/config/{self._pk()}", auth="R")
        return DEFAULT_MULTISIG if payload is None else parse_multisig_config(payload)

    async def open_interest(self, asset: str | int) -> OpenInterest:
        """Long and short open interest of one market (MDS `/openinterest/{asset}`)."""
        asset_id = await self.resolve_asset(asset)
        return parse_open_interest(await self._read(f"/openinterest/{asset_id}", auth="O"))

    async def mds_order_history(
        self,
        asset: str | int | None = None,
        *,
        sub_account: int | None = None,
        start_ns: int | None = None,
        end_ns: int | None = None,
        side: Literal["buy", "sell"] | None = None,
        status: str | None = None,
        page: int | None = None,
        limit: int | None = None,
    ) -> list[HistoricalOrder]:
        """Our order history from the **MDS** (`GET /orders/user/{pk}[/{asset}]`), one page.

        The OMS serves live orders on the same path (spec §11.10); behind a gateway that
        routes it to the OMS (as the local venue does) the rows lack the MDS keys and this
        raises ServerError: point the client at the MDS origin instead.
        """
        path = f"/orders/user/{self._pk()}"
        if asset is not None:
            path += f"/{await self.resolve_asset(asset)}"
        query = _filters(sub_account, start_ns, end_ns, side, status, page, limit)
        payload = await self._read(path, auth="R", query=query)
        try:
            return [parse_historical_order(row) for row in items_of(payload, "orders")]
        except WireError as exc:
            raise ServerError(
                f"{path} did not answer MDS order history ({exc}); this origin may route it"
                " to the OMS (spec §11.10)",
                retryable=False,
            ) from None

    async def position_basis(
        self, asset: str | int | None = None, *, sub_account: int | None = None
    ) -> list[PositionBasis]:
        """Cost basis of our holdings (MDS `/positions/user/{pk}/basis[/{asset}]`)."""
        path = f"/positions/user/{self._pk()}/basis"
        if asset is not None:
            path += f"/{await self.resolve_asset(asset)}"
        query: list[tuple[str, str]] = []
        if sub_account is not None:
            query.append(("sub_account", str(build.check_sub_account(sub_account))))
        payload = await self._read(path, auth="R", query=query)
        return [parse_position_basis(row) for row in items_of(payload, "basis")]

    async def sub_account_names(self) -> list[SubAccountName]:
        """The names we gave our sub-accounts (MDS `/sub-accounts/user/{pk}`)."""
        return parse_sub_account_names(
            await self._read(f"/sub-accounts/user/{self._pk()}", auth="R")
        )


def _filters(*values: Any) -> list[tuple[str, str]]:
    """MDS history query: sub_account, start_time, end_time, side, status, page, limit, each if set."""
    names = ("sub_account", "start_time", "end_time", "side", "status", "page", "limit")
    return [(n, str(v)) for n, v in zip(names, values, strict=True) if v is not None]

"""Error classification (spec §7.2) through a real client, row by row of the golden table."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from spec_fake import BASE, VECTORS

from tplus_cli.client import TplusClient
from tplus_cli.client.errors import (
    AuthFailed,
    ClientError,
    NotFound,
    RateLimited,
    Rejected,
    ServerError,
    classify,
    error_from_response,
)
from tplus_cli.client.retry import NO_RETRY

pytestmark = pytest.mark.anyio

# tpluspy's class → ours. Non-envelope bodies (tpluspy: a bare HTTPStatusError) are
# classified by status alone here, so the CLI still gets a meaningful exit code.
OURS = {
    "OrderRejected": Rejected,
    "AuthError": AuthFailed,
    "SignerRegistryUnavailable": AuthFailed,
    "RateLimitError": RateLimited,
    "NotFoundError": NotFound,
    "ServerError": ServerError,
    "OmsError": ClientError,
}
BY_STATUS = {500: ServerError, 404: NotFound}
ROWS = VECTORS["error_classification"]


def expected_class(row: dict[str, Any]) -> type[ClientError]:
    if row["exception_class"] == "HTTPStatusError":
        return BY_STATUS[row["status"]]
    return OURS[row["exception_class"]]


def body_of(row: dict[str, Any]) -> bytes:
    raw = row.get("error_body", row.get("raw_body"))
    return raw.encode() if isinstance(raw, str) else json.dumps(raw).encode()


@pytest.mark.parametrize(
    "row", ROWS, ids=[f"{r['status']}-{r.get('str', r.get('code'))}" for r in ROWS]
)
async def test_each_golden_row_raises_the_right_class(row: dict[str, Any]) -> None:
    """The public /tickers read answered with the row's status and body raises the mapped class."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(row["status"], content=body_of(row))

    async with TplusClient(BASE, transport=httpx.MockTransport(handler), retry=NO_RETRY) as c:
        with pytest.raises(ClientError) as info:
            await c.tickers()
    error = info.value
    assert type(error) is expected_class(row)
    assert error.status == row["status"]
    if "str" in row:
        assert str(error) == row["str"]
    else:
        assert error.code == row["code"]


def test_rejected_carries_the_order_id_and_retryable_flag() -> None:
    """details.order_id and the envelope's retryable flag survive classification."""
    row = ROWS[0]
    error = error_from_response(row["status"], body_of(row))
    assert isinstance(error, Rejected)
    assert error.order_id == "whYvUPcmRXScelNpu06Fng=="
    assert error.retryable is False and error.code == "INSUFFICIENT_MARGIN"


def test_rate_limited_reads_retry_after_header() -> None:
    """Retry-After (seconds) is kept on RateLimited; junk or an HTTP date is ignored."""
    body = b'{"error":{"code":"RATE_LIMITED","message":"slow"}}'
    limited = error_from_response(429, body, {"Retry-After": "2.5"})
    assert isinstance(limited, RateLimited) and limited.retry_after == 2.5
    undated = error_from_response(429, body, {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
    assert isinstance(undated, RateLimited) and undated.retry_after is None


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (503, "SIGNER_REGISTRY_UNAVAILABLE", AuthFailed),  # rule 1 beats the 5xx rule
        (400, "NONCE_INVALID", AuthFailed),
        (500, "RATE_LIMITED", RateLimited),  # code rules come before status rules
        (400, "MARKET_NOT_FOUND", NotFound),
        (400, "TIMEOUT", ServerError),
        (409, "REDUCE_ONLY_WOULD_INCREASE", Rejected),
        (400, "FOK_NOT_FILLED", Rejected),
        (400, "INSUFFICIENT_BALANCE", ClientError),  # not a §7.2 reject prefix
        (409, "STALE_REVISION", ClientError),
        (502, None, ServerError),
    ],
)
def test_classification_order(status: int, code: str | None, cls: type[ClientError]) -> None:
    """The first matching rule of §7.2 wins."""
    assert classify(status, code) is cls

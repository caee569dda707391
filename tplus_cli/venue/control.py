"""The `/control` WebSocket (spec §8.4): order entry over one socket, through the REST handlers.

Each client frame `{"request_id", "data": {Variant: body}}` is answered by running the same
`Venue.handle` the REST endpoint runs (same auth, signature checks and journal), with the
headers of the WebSocket handshake:

* single requests → `{"request_id", "data": {"<X>Response": {"response": ack, "asset_id"}}}`
  or `{"request_id", "error": {code, message, retryable}}`;
* batches → an ack `{"type": "ack", "request_id"}`, then one `CreateOrderResponse` /
  `ReplaceOrderResponse` frame per item (carrying the batch's request id), in order.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from tplus_cli.venue.protocol import ApiError, ApiRequest, ApiResponse, dumps

if TYPE_CHECKING:
    from tplus_cli.venue.handlers import Venue

CONTROL_PATH = "/control"
SUBPROTOCOL = "tplus.ws.v1"

# request variant -> (method, REST path, response variant, key of the object naming the asset)
_SINGLE: dict[str, tuple[str, str, str, str, str]] = {
    "CreateOrderRequest": ("POST", "/orders/create", "CreateOrderResponse", "order", "base_asset"),
    "CancelOrderRequest": ("DELETE", "/orders/cancel", "CancelOrderResponse", "cancel", "asset_id"),
    "ReplaceOrderRequest": (
        "PATCH",
        "/orders/replace",
        "ReplaceOrderResponse",
        "request",
        "base_asset",
    ),
    "AmendOrderRequest": ("PATCH", "/orders/amend", "AmendOrderResponse", "request", "base_asset"),
}
# batch variant -> (method, REST path, per-item response variant, items key, item object key)
_BATCH: dict[str, tuple[str, str, str, str, str]] = {
    "BatchCreateRequest": (
        "POST",
        "/orders/batch-create",
        "CreateOrderResponse",
        "orders",
        "order",
    ),
    "BatchReplaceRequest": (
        "PATCH",
        "/orders/batch-replace",
        "ReplaceOrderResponse",
        "replaces",
        "request",
    ),
}


def _text(obj: object) -> str:
    return dumps(obj).decode("utf-8")


def _asset_of(item: object, obj_key: str, asset_key: str) -> str | None:
    """The asset string the client sent (its futures are keyed by it, so echo it verbatim)."""
    inner = item.get(obj_key) if isinstance(item, Mapping) else None
    asset = inner.get(asset_key) if isinstance(inner, Mapping) else None
    return asset if isinstance(asset, str) else None


def _error_frame(request_id: object, resp: ApiResponse) -> str:
    body = resp.json()
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        error = {"code": "INTERNAL_ERROR", "message": "no error envelope", "retryable": True}
    return _text({"request_id": request_id, "error": error})


def handle_frame(venue: Venue, headers: Mapping[str, str], text: str) -> list[str]:
    """Answer one client frame with the frames to send back, in order."""
    try:
        frame = json.loads(text)
    except (ValueError, TypeError):
        frame = None
    request_id = frame.get("request_id") if isinstance(frame, dict) else None
    data = frame.get("data") if isinstance(frame, dict) else None
    if not isinstance(data, dict) or len(data) != 1:
        error = ApiError(400, "INVALID_REQUEST", "expected {request_id, data: {Variant: body}}")
        return [_error_frame(request_id, error.response())]
    ((variant, body),) = data.items()
    if variant in _SINGLE:
        return _single(venue, headers, request_id, variant, body)
    if variant in _BATCH:
        return _batch(venue, headers, request_id, variant, body)
    unknown = ApiError(400, "INVALID_REQUEST", f"unknown control request {str(variant)[:60]!r}")
    return [_error_frame(request_id, unknown.response())]


def _call(
    venue: Venue, headers: Mapping[str, str], method: str, path: str, body: Any
) -> ApiResponse:
    return venue.handle(ApiRequest(method, path, {}, headers, dumps(body)))


def _single(
    venue: Venue, headers: Mapping[str, str], request_id: object, variant: str, body: Any
) -> list[str]:
    method, path, response_variant, obj_key, asset_key = _SINGLE[variant]
    resp = _call(venue, headers, method, path, body)
    if resp.status != 200:
        return [_error_frame(request_id, resp)]
    payload: dict[str, Any] = {"response": resp.json()}
    asset = _asset_of(body, obj_key, asset_key)
    if asset is not None:
        payload["asset_id"] = asset
    return [_text({"request_id": request_id, "data": {response_variant: payload}})]


def _batch(
    venue: Venue, headers: Mapping[str, str], request_id: object, variant: str, body: Any
) -> list[str]:
    method, path, response_variant, items_key, obj_key = _BATCH[variant]
    asset_key = "base_asset"
    resp = _call(venue, headers, method, path, body)
    if resp.status != 200:
        return [_error_frame(request_id, resp)]
    frames = [_text({"type": "ack", "request_id": request_id})]
    items = body.get(items_key) if isinstance(body, dict) else None
    results = resp.json().get("results", [])
    for item, result in zip(items or [], results, strict=False):
        payload: dict[str, Any] = {"response": result}
        asset = _asset_of(item, obj_key, asset_key)
        if asset is not None:
            payload["asset_id"] = asset
        frames.append(_text({"request_id": request_id, "data": {response_variant: payload}}))
    return frames

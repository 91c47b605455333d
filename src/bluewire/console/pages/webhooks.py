"""Webhooks: GET <root>/webhooks, the account's endpoints by type (added and removed through
`WebhookConfig`, with the API's typed requests and so its errors), a replay of a time range, and
the delivery log (`DeliveryLog.list`, filtered by the page's query string as the API filters
it); GET <root>/webhooks/deliveries/{id}, one delivery with every attempt, and its resend.

A secret is write-only here: the form takes it, the pages say only whether one is set. An
endpoint whose recent deliveries are failing is marked, from one read of the log. The log
reloads itself (htmx) a second after each of the account's events on `/console/events`."""

from __future__ import annotations

from typing import Any, get_args
from urllib.parse import urlencode

import msgspec
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from ...api.endpoint import convert
from ...domain.errors import ApiError, validation_error
from ...domain.webhooks import ENDPOINT_TYPES, TYPE_FOR_EVENT
from ...domain.wire.webhooks import (
    AddWebhooks,
    DeliveryId,
    DeliveryQuery,
    DeliveryState,
    RemoveWebhooks,
    ReplayRequest,
)
from ...store.accounts import Account
from ...store.database import now_ms
from ..forms import read_form
from ..rendering import error_page, page, root_of
from ..services import ConsoleServices

PAGE_SIZE = 25
REPLY_SNIPPET = 120
RECENT_MS = 24 * 3600 * 1000  # the deliveries that say whether an endpoint is failing now
LOG_FILTERS = ("state", "endpoint_id", "message", "since", "until", "limit", "offset")
FIRED = frozenset(TYPE_FOR_EVENT.values())  # the types bluewire sends events to
DONE = {"added": "Webhook added.", "removed": "Webhook removed."}


def routes(services: ConsoleServices) -> list[BaseRoute]:
    async def webhooks_page(request: Request) -> Response:
        account = await services.account_of(request.state.session)
        return await _render(request, services, account)

    async def add(request: Request) -> Response:
        account = await services.account_of(request.state.session)
        form = await read_form(request)
        url, type_ = _text(form, "url"), _text(form, "type")
        secret = _text(form, "secret")
        entry: Any = {"url": url, "secret": secret} if secret else url
        try:
            if "\x00" in url + secret:  # the form's fields, as the API refuses them in JSON
                raise validation_error("Text in the form may not contain the NUL character")
            body = convert({"webhooks": [entry], "type": type_}, AddWebhooks, "body")
            await services.webhooks.append(account, body)
        except ApiError as exc:
            return await _render(request, services, account, status=400,
                                 add_error=exc.message,
                                 entered={"url": url.replace("\x00", ""), "type": type_})
        return _back(request, "/webhooks?done=added")

    async def remove(request: Request) -> Response:
        account = await services.account_of(request.state.session)
        form = await read_form(request)
        try:
            body = convert({"webhooks": [_text(form, "url")], "type": _text(form, "type")},
                           RemoveWebhooks, "body")
            await services.webhooks.remove(account, body)
        except ApiError as exc:
            return await _render(request, services, account, status=400,
                                 endpoints_error=exc.message)
        return _back(request, "/webhooks?done=removed")

    async def replay(request: Request) -> Response:
        account = await services.account_of(request.state.session)
        form = await read_form(request)
        given = {name: _text(form, name) for name in ("endpoint_id", "since", "until")}
        try:
            body = convert({name: value for name, value in given.items() if value},
                           ReplayRequest, "body")
            done = await services.delivery_log.replay(account, body)
        except ApiError as exc:
            return await _render(request, services, account, status=400,
                                 replay_error=exc.message, replay_entered=given)
        return _back(request, "/webhooks?" + urlencode({"replayed": done["queued"]}))

    async def delivery_page(request: Request) -> Response:
        account = await services.account_of(request.state.session)
        try:
            delivery_id = _delivery_id(request)
            found = (await services.delivery_log.get(account, delivery_id))["data"]
        except ApiError as exc:
            return error_page(request, exc.http_status, _TITLES.get(exc.http_status, "Delivery"),
                              exc.message)
        resent_from = request.query_params.get("resent_from", "")
        return page(request, "console/webhook_delivery.html", {
            "d": found,
            "payload": msgspec.json.format(msgspec.json.encode(found["payload"])).decode(),
            "resent_from": int(resent_from) if resent_from.isdigit() else None,
        }, active="webhooks")

    async def resend(request: Request) -> Response:
        account = await services.account_of(request.state.session)
        try:
            delivery_id = _delivery_id(request)
            done = await services.delivery_log.resend(account, delivery_id)
        except ApiError as exc:
            return error_page(request, exc.http_status, _TITLES.get(exc.http_status, "Delivery"),
                              exc.message)
        return _back(request, f"/webhooks/deliveries/{done['data']['id']}?"
                     + urlencode({"resent_from": delivery_id}))

    return [
        Route("/webhooks", webhooks_page, methods=["GET"]),
        Route("/webhooks/add", add, methods=["POST"]),
        Route("/webhooks/remove", remove, methods=["POST"]),
        Route("/webhooks/replay", replay, methods=["POST"]),
        Route("/webhooks/deliveries/{delivery_id}", delivery_page, methods=["GET"]),
        Route("/webhooks/deliveries/{delivery_id}/resend", resend, methods=["POST"]),
    ]


async def _render(request: Request, services: ConsoleServices, account: Account, *,
                  status: int = 200, **context: Any) -> Response:
    endpoints = await services.webhooks.endpoints(account)
    outcomes = await services.delivery_log.endpoint_outcomes(account, now_ms() - RECENT_MS)
    given = {name: value.strip() for name, value in request.query_params.items()
             if name in LOG_FILTERS and value.strip()}
    given.setdefault("limit", str(PAGE_SIZE))
    log_error: str | None = None
    listed: dict[str, Any] = {"data": [], "pagination": None}
    try:
        listed = await services.delivery_log.list(
            account, convert(given, DeliveryQuery, "parameters"))
    except ApiError as exc:
        log_error = exc.message
        status = 400 if status == 200 else status
    by_type: dict[str, list[dict[str, Any]]] = {}
    for endpoint in endpoints:
        outcome = outcomes.get(endpoint.id)
        by_type.setdefault(endpoint.type, []).append({
            "id": endpoint.id, "url": endpoint.url, "type": endpoint.type,
            "secret_set": endpoint.secret is not None,
            "lines": list(endpoint.lines) if endpoint.lines is not None else None,
            "disabled_reason": endpoint.disabled_reason,
            "failing": outcome.failing if outcome else 0,
            "delivered": outcome.delivered if outcome else 0,
        })
    replayed = request.query_params.get("replayed", "")
    notice = DONE.get(request.query_params.get("done", ""))
    if replayed.isdigit():
        notice = f"Replay queued {int(replayed)} deliveries."
    values: dict[str, Any] = {
        "by_type": [(type_, by_type[type_]) for type_ in ENDPOINT_TYPES if type_ in by_type],
        "endpoints": endpoints,
        "types": ENDPOINT_TYPES,
        "fired": FIRED,
        "states": get_args(DeliveryState),
        "filters": given,
        "deliveries": [_delivery_row(d) for d in listed["data"]],
        "pagination": listed["pagination"],
        "previous": _page_link(given, listed["pagination"], -1),
        "next": _page_link(given, listed["pagination"], +1),
        "log_error": log_error,
        "current": "?" + urlencode(given),  # what the log reloads, live, as events arrive
        "live": True,
        "notice": notice,
        "add_error": None, "endpoints_error": None, "replay_error": None,
        "entered": {"url": "", "type": "receive"},
        "replay_entered": {"endpoint_id": "", "since": "", "until": ""},
        **context,
    }
    return page(request, "console/webhooks.html", values, active="webhooks", status=status)


def _delivery_row(delivery: dict[str, Any]) -> dict[str, Any]:
    last = delivery["attempts_log"][-1] if delivery["attempts_log"] else None
    reply = (last or {}).get("response") or ""
    return {**delivery,
            "latency_ms": last["latency_ms"] if last else None,
            "reply": reply if len(reply) <= REPLY_SNIPPET else reply[:REPLY_SNIPPET - 1] + "…"}


def _page_link(given: dict[str, str], pagination: dict[str, Any] | None,
               step: int) -> str | None:
    if pagination is None:
        return None
    limit, offset = pagination["limit"], pagination["offset"]
    if (step < 0 and offset <= 0) or (step > 0 and not pagination["hasMore"]):
        return None
    return "?" + urlencode({**given, "offset": str(max(0, offset + step * limit))})


_TITLES = {404: "Delivery not found", 400: "Not a delivery"}


def _delivery_id(request: Request) -> int:
    """The path's delivery id, read as the API reads it (a 400 naming it otherwise)."""
    found = convert({"delivery_id": request.path_params["delivery_id"]}, DeliveryId,
                    "parameters")
    return int(found.delivery_id)


def _text(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _back(request: Request, path: str) -> Response:
    """After a change, the page again by GET (so a reload does not repeat the change)."""
    return RedirectResponse(root_of(request) + path, status_code=303)

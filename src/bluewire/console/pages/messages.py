"""Messages: GET <root>/messages, the account's messages as GET /api/v2/messages lists them,
filtered by the page's query string (decoded as the API decodes it, so a bad filter is the
API's own error); and GET <root>/messages/{handle}, one message with its status times, the
account events it caused and the webhook deliveries of those events, each with its attempts.
Another account's message is a 404, as GET /api/v2/messages/{id} answers it.

A message's page also lists its follow-ups (GET /api/v2/follow-ups?message=), and a scheduled
one's Cancel (POST <root>/messages/{handle}/follow-ups/{id}/cancel) is DELETE
/api/v2/follow-ups/{id} through the same service, with its refusals (409 once it has ended)."""

from __future__ import annotations

import json
from typing import Any, get_args
from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from ...api.endpoint import convert
from ...domain.errors import ApiError
from ...domain.query import parse_moment
from ...domain.wire.common import ServiceName, StatusName
from ...domain.wire.follow_ups import MAX_PAGE as MAX_FOLLOW_UPS
from ...domain.wire.follow_ups import FollowUpQuery
from ...domain.wire.messages import ListMessagesQuery, MessageId
from ...domain.wire.webhooks import MAX_PAGE, DeliveryQuery
from ..rendering import error_page, page, root_of
from ..services import ConsoleServices

PAGE_SIZE = 50
SNIPPET = 80  # characters of content in the table
FILTERS = ("number", "sendblue_number", "is_outbound", "status", "service", "message_type",
           "created_at_gte", "created_at_lte", "order_direction", "limit", "offset")
STATUSES = (*get_args(StatusName), "SUCCESS")
SERVICES = get_args(ServiceName)


def routes(services: ConsoleServices) -> list[BaseRoute]:
    async def messages_page(request: Request) -> Response:
        account = await services.account_of(request.state.session)
        given = {name: value.strip() for name, value in request.query_params.items()
                 if name in FILTERS and value.strip()}
        given.setdefault("limit", str(PAGE_SIZE))
        error: str | None = None
        listed: dict[str, Any] = {"data": [], "pagination": None}
        try:
            query = convert(given, ListMessagesQuery, "parameters")
            listed = await services.messaging.list(account, query)
        except ApiError as exc:
            error = exc.message
        pagination = listed["pagination"]
        return page(request, "console/messages.html", {
            "messages": [_row(message) for message in listed["data"]],
            "error": error,
            "filters": given,
            "statuses": STATUSES,
            "services": SERVICES,
            "previous": _page_link(given, pagination, -1),
            "next": _page_link(given, pagination, +1),
            "pagination": pagination,
        }, active="messages", status=400 if error else 200)

    async def message_page(request: Request) -> Response:
        account = await services.account_of(request.state.session)
        try:
            handle = convert({"message_id": request.path_params["handle"]}, MessageId,
                             "parameters").message_id
            message = (await services.messaging.retrieve(account, handle))["data"]
        except ApiError as exc:
            return error_page(request, exc.http_status, "Message not found"
                              if exc.http_status == 404 else "Not a message", exc.message)
        created = parse_moment(message["date_sent"], "date_sent") or 0
        events = await services.delivery_log.message_events(
            account, message["message_handle"], created - 1000)
        deliveries = (await services.delivery_log.list(account, DeliveryQuery(
            message=message["message_handle"], limit=MAX_PAGE)))["data"]
        follow_ups = [] if not message["is_outbound"] else (await services.follow_ups.list(
            account, FollowUpQuery(message=message["message_handle"],
                                   limit=MAX_FOLLOW_UPS)))["data"]
        return page(request, "console/message.html", {
            "message": message,
            "chain": _chain(message),
            "events": events,
            "deliveries": deliveries,
            "follow_ups": [_follow_up_row(row) for row in follow_ups],
        }, active="messages")

    async def cancel_follow_up(request: Request) -> Response:
        account = await services.account_of(request.state.session)
        handle = request.path_params["handle"]
        public_id = request.path_params["follow_up"]
        found = (await services.follow_ups.retrieve(account, public_id))["data"]
        if found["message_handle"] != handle:  # not this message's: as good as absent
            return error_page(request, 404, "Not found",
                              f"Message {handle} has no follow-up {public_id}")
        await services.follow_ups.cancel(account, public_id)  # a 409 page once it has ended
        return RedirectResponse(f"{root_of(request)}/messages/{quote(handle, safe='')}"
                                "#follow-ups", status_code=303)

    return [Route("/messages", messages_page, methods=["GET"]),
            Route("/messages/{handle}", message_page, methods=["GET"]),
            Route("/messages/{handle}/follow-ups/{follow_up}/cancel", cancel_follow_up,
                  methods=["POST"])]


def _follow_up_row(row: dict[str, Any]) -> dict[str, Any]:
    """A follow-up as the table shows it: its `after` readable, its action summed up, and
    when it ended (fired, skipped or cancelled), None while it is scheduled."""
    action = row["action"] or {}
    if "send" in action:
        send = action["send"] or {}
        text = send.get("content") or ""
        summary = "send: " + _snippet(text)
        if send.get("media_url"):
            summary += " [media]"
    else:
        summary = "notify: " + json.dumps(action.get("notify"), separators=(",", ":"))[:SNIPPET]
    ended = row["updated_at"] if row["state"] != "scheduled" else None
    return {**row, "after_text": after_text(row["after"]), "summary": summary,
            "ended_at": ended}


def after_text(seconds: float) -> str:
    """A follow-up's `after` as a person reads it: 90 s, 10 min, 2 h, 1 d 12 h."""
    whole = round(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{value} {unit}" for value, unit in
             ((days, "d"), (hours, "h"), (minutes, "min"), (secs, "s")) if value]
    return " ".join(parts) if parts else f"{seconds:g} s"


def _row(message: dict[str, Any]) -> dict[str, Any]:
    content = message["content"] or ""
    snippet = _snippet(content)
    return {**message, "snippet": snippet}


def _chain(message: dict[str, Any]) -> list[tuple[str, str | None]]:
    """The message's status steps and when each was reached (None: not yet, or not known)."""
    steps = [("Created", message["date_sent"])]
    if message["is_outbound"]:
        steps += [("Delivered", message["date_delivered"]), ("Read", message["date_read"])]
    else:
        steps += [("Read", message["date_read"])]
    steps.append((f"Last change ({message['status']})", message["date_updated"]))
    return steps


def _page_link(given: dict[str, str], pagination: dict[str, Any] | None,
               step: int) -> str | None:
    """The query string of the previous (-1) or next (+1) page, or None when there is none."""
    if pagination is None:
        return None
    limit, offset = pagination["limit"], pagination["offset"]
    if step < 0 and offset <= 0:
        return None
    if step > 0 and not pagination["hasMore"]:
        return None
    moved = max(0, offset + step * limit)
    return "?" + urlencode({**given, "offset": str(moved)})


def _snippet(text: str) -> str:
    return text if len(text) <= SNIPPET else text[:SNIPPET - 1] + "…"

"""Messages: GET <root>/messages, the account's messages as GET /api/v2/messages lists them,
filtered by the page's query string (decoded as the API decodes it, so a bad filter is the
API's own error); and GET <root>/messages/{handle}, one message with its status times, the
account events it caused and the webhook deliveries of those events, each with its attempts.
Another account's message is a 404, as GET /api/v2/messages/{id} answers it."""

from __future__ import annotations

from typing import Any, get_args
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ...api.endpoint import convert
from ...domain.errors import ApiError
from ...domain.query import parse_moment
from ...domain.wire.common import ServiceName, StatusName
from ...domain.wire.messages import ListMessagesQuery, MessageId
from ...domain.wire.webhooks import MAX_PAGE, DeliveryQuery
from ..rendering import error_page, page
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
        return page(request, "console/message.html", {
            "message": message,
            "chain": _chain(message),
            "events": events,
            "deliveries": deliveries,
        }, active="messages")

    return [Route("/messages", messages_page, methods=["GET"]),
            Route("/messages/{handle}", message_page, methods=["GET"])]


def _row(message: dict[str, Any]) -> dict[str, Any]:
    content = message["content"] or ""
    snippet = content if len(content) <= SNIPPET else content[:SNIPPET - 1] + "…"
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

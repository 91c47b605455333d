"""Conversations: GET <root>/conversations lists the account's 1:1 and group conversations, the
most recently active first, each with its last message and unread inbound count, beside a
compose for a new message and one for a new group. A conversation's thread is at
<root>/conversations/<line>/<number> (or <root>/conversations/groups/<group id>): its latest
page of messages, older pages a link (or an htmx request) away, a compose box and a mark-read
button. The thread is live: on each message or typing event of the account that concerns it
(console.js filters them), it fetches `…/live?since=<its first message id>` and swaps that in.

Sending and marking read go through the API's own services with its typed requests, so they
are checked, refused, recorded, streamed and sent to webhooks exactly as the API's are. A
conversation of another account, or on a line the account may not use, is a 404.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote, urlencode

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from ...api.endpoint import convert
from ...domain.errors import ApiError, validation_error
from ...domain.groups import Receipt
from ...domain.limits import SEND_STYLES
from ...domain.messages import MessageRecord
from ...domain.wire.conversations import MarkRead, SendGroupMessage
from ...domain.wire.messages import SendMessage
from ...services.conversations import Thread
from ...store.accounts import Account
from ...store.conversations import ConversationKey
from ..bubbles import Bubble, bubble
from ..forms import attached_file
from ..rendering import page, root_of
from ..services import ConsoleServices

LIST_PAGE = 50
THREAD_PAGE = 50
TEXT_FIELDS = ("number", "numbers", "from_number", "content", "send_style", "group_id")


def thread_path(key: ConversationKey) -> str:
    """A conversation's path under the console's root."""
    if key.group_id is not None:
        return f"/conversations/groups/{quote(key.group_id, safe='')}"
    return f"/conversations/{quote(key.line, safe='')}/{quote(key.number or '', safe='')}"


def routes(services: ConsoleServices) -> list[BaseRoute]:
    views = _Views(services)
    return [
        Route("/conversations", views.list_page, methods=["GET"]),
        Route("/conversations/send", views.send, methods=["POST"]),
        Route("/conversations/groups", views.new_group, methods=["POST"]),
        Route("/conversations/groups/{group_id}", views.group_thread, methods=["GET"]),
        Route("/conversations/groups/{group_id}/live", views.group_live, methods=["GET"]),
        Route("/conversations/{line}/{number}", views.thread, methods=["GET"]),
        Route("/conversations/{line}/{number}/live", views.live, methods=["GET"]),
        Route("/conversations/{line}/{number}/read", views.mark_read, methods=["POST"]),
    ]


class _Views:
    def __init__(self, services: ConsoleServices) -> None:
        self._services = services

    # -- the list ----------------------------------------------------------------------------

    async def list_page(self, request: Request, *, error: str | None = None,
                        form: dict[str, str] | None = None, status: int = 200) -> Response:
        account = await self._account(request)
        offset = _int_arg(request, "offset") or 0
        listed = await self._services.conversations.list(account, limit=LIST_PAGE,
                                                         offset=offset)
        rows = []
        for row in listed.rows:
            group = listed.groups.get(row.key.group_id or "")
            rows.append({
                "path": thread_path(row.key),
                "title": _title(row.key, listed.names, group),
                "subtitle": row.key.line if row.key.group_id else row.key.number,
                "line": row.key.line,
                "is_group": row.key.is_group,
                "last": _bubble(self._services, row.last, listed.names),
                "unread": row.unread,
            })
        return page(request, "console/conversations.html", {
            "conversations": rows,
            "total": listed.total,
            "previous": _offset_link(offset - LIST_PAGE) if offset > 0 else None,
            "next": (_offset_link(offset + LIST_PAGE)
                     if offset + len(rows) < listed.total else None),
            "lines": self._services.lines.numbers_of(account.id),
            "send_styles": sorted(SEND_STYLES),
            "error": error,
            "form": form or {},
            "live": True,
        }, active="conversations", status=status)

    # -- a thread ----------------------------------------------------------------------------

    async def thread(self, request: Request) -> Response:
        account = await self._account(request)
        key = self._services.conversations.key_of(account, request.path_params["line"],
                                                   request.path_params["number"])
        return await self._thread_page(request, account, key)

    async def group_thread(self, request: Request) -> Response:
        account = await self._account(request)
        key = await self._services.conversations.group_key(account,
                                                           request.path_params["group_id"])
        return await self._thread_page(request, account, key)

    async def live(self, request: Request) -> Response:
        account = await self._account(request)
        key = self._services.conversations.key_of(account, request.path_params["line"],
                                                   request.path_params["number"])
        return await self._live(request, account, key)

    async def group_live(self, request: Request) -> Response:
        account = await self._account(request)
        key = await self._services.conversations.group_key(account,
                                                           request.path_params["group_id"])
        return await self._live(request, account, key)

    async def _thread_page(self, request: Request, account: Account, key: ConversationKey, *,
                           error: str | None = None, form: dict[str, str] | None = None,
                           status: int = 200) -> Response:
        before = _int_arg(request, "before")
        thread = await self._services.conversations.page(account, key, before=before,
                                                         limit=THREAD_PAGE)
        if before is not None and request.headers.get("hx-request") == "true":
            return page(request, "console/_thread_older.html",
                        thread_context(self._services, thread))
        return page(request, "console/conversation.html", {
            **thread_context(self._services, thread),
            "paged_back": before is not None,
            "send_styles": sorted(SEND_STYLES),
            "error": error,
            "form": form or {},
            "live": True,
        }, active="conversations", status=status)

    async def _live(self, request: Request, account: Account, key: ConversationKey) -> Response:
        since = _int_arg(request, "since")
        if since is None:
            thread = await self._services.conversations.page(account, key, limit=THREAD_PAGE)
        else:
            thread = await self._services.conversations.since(account, key, since)
        return page(request, "console/_thread_live.html", thread_context(self._services, thread))

    # -- actions -----------------------------------------------------------------------------

    async def send(self, request: Request) -> Response:
        """A 1:1 message from a compose box: the list's (to any number) or a thread's."""
        account = await self._account(request)
        form = await _form(request)
        values = _texts(form)
        try:
            values["media_url"] = await uploaded_media_url(self._services, account, form)
            body = convert(_present(values, ("number", "from_number", "content", "media_url",
                                             "send_style")), SendMessage, "body")
            sent = await self._services.messaging.send(account, body)
        except ApiError as exc:
            return await self._refused(request, account, values, exc)
        key = ConversationKey(sent["sendblue_number"], number=sent["number"])
        return RedirectResponse(root_of(request) + thread_path(key), status_code=303)

    async def new_group(self, request: Request) -> Response:
        """A group message: to a new group of `numbers`, or to an existing `group_id`."""
        account = await self._account(request)
        form = await _form(request)
        values = _texts(form)
        numbers = [n.strip() for n in values.get("numbers", "").replace(",", "\n").splitlines()
                   if n.strip()]
        try:
            media_url = await uploaded_media_url(self._services, account, form)
            fields: dict[str, Any] = _present(values, ("from_number", "content", "group_id"))
            if media_url:
                fields["media_url"] = media_url
            if numbers and "group_id" not in fields:
                fields["numbers"] = numbers
            body = convert(fields, SendGroupMessage, "body")
            sent = await self._services.groups.send(account, body)
        except ApiError as exc:
            return await self._refused(request, account, values, exc)
        key = ConversationKey(sent["sendblue_number"], group_id=sent["group_id"])
        return RedirectResponse(root_of(request) + thread_path(key), status_code=303)

    async def mark_read(self, request: Request) -> Response:
        account = await self._account(request)
        key = self._services.conversations.key_of(account, request.path_params["line"],
                                                   request.path_params["number"])
        try:
            await self._services.read_receipts.mark_read(
                account, MarkRead(number=key.number, from_number=key.line))
        except ApiError as exc:
            return await self._thread_page(request, account, key, error=exc.message,
                                           status=exc.http_status)
        return RedirectResponse(root_of(request) + thread_path(key), status_code=303)

    async def _refused(self, request: Request, account: Account, values: dict[str, str],
                       exc: ApiError) -> Response:
        """The page the compose box was on, again, with the API's error and what was typed."""
        key = await self._key_from_form(account, values)
        if key is None:
            return await self.list_page(request, error=exc.message, form=values,
                                        status=exc.http_status)
        return await self._thread_page(request, account, key, error=exc.message, form=values,
                                       status=exc.http_status)

    async def _key_from_form(self, account: Account,
                             values: dict[str, str]) -> ConversationKey | None:
        if values.get("thread") != "1":
            return None
        try:
            if values.get("group_id"):
                return await self._services.conversations.group_key(account, values["group_id"])
            key = self._services.conversations.key_of(account, values.get("from_number", ""),
                                                      values.get("number", ""))
            await self._services.conversations.page(account, key, limit=1)
            return key
        except ApiError:
            return None


    # -- shared --------------------------------------------------------------------------------

    async def _account(self, request: Request) -> Account:
        return await self._services.account_of(request.state.session)



def thread_context(services: ConsoleServices, thread: Thread) -> dict[str, Any]:
    """What a thread's templates show of `thread` (conversation.html, _thread_live.html, and
    the Sandbox page's business side)."""
    key = thread.key
    bubbles = [_bubble(services, message, thread.names, thread.receipts.get(message.id or 0, ()))
               for message in thread.messages]
    return {
        "key": key,
        "path": thread_path(key),
        "title": _title(key, thread.names, thread.group),
        "members": [(number, thread.names.get(number, ""))
                    for number in (thread.group.members if thread.group else ())],
        "bubbles": bubbles,
        "more": thread.more,
        "first_id": bubbles[0].id if bubbles else None,
        "typing": thread.typing,
        "unread": thread.unread,
    }


async def uploaded_media_url(services: ConsoleServices, account: Account,
                             form: FormData) -> str | None:
    """The media file attached to a compose box, stored as the API's upload-file stores it;
    its URL is what the message sends (None when no file was chosen)."""
    attached = await attached_file(form)
    if attached is None:
        return None
    stored = await services.media.upload_file(account.id, *attached)
    return str(stored["media_url"])


def _bubble(services: ConsoleServices, message: MessageRecord, names: dict[str, str],
            receipts: Sequence[Receipt] = ()) -> Bubble:
    media = services.media
    return bubble(message, is_own_media=lambda url: media.referenced_id(url) is not None,
                  names=names, receipts=receipts)


async def _form(request: Request) -> FormData:
    return await request.form(max_files=1, max_fields=len(TEXT_FIELDS) + 4)


def _texts(form: FormData) -> dict[str, str]:
    return {name: value for name, value in form.items()
            if isinstance(value, str) and name in (*TEXT_FIELDS, "thread")}


def _present(values: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """The fields given a value: an empty box is a field not given, as the API reads it."""
    return {name: values[name] for name in names
            if isinstance(values.get(name), str) and values[name].strip()}


def _int_arg(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise validation_error(f"`{name}` must be a whole number of 0 or more")
    return int(raw)


def _offset_link(offset: int) -> str:
    return "?" + urlencode({"offset": str(max(0, offset))})


def _title(key: ConversationKey, names: dict[str, str], group: Any) -> str:
    if key.group_id is not None:
        if group is not None and group.display_name:
            return str(group.display_name)
        members = group.members if group is not None else ()
        shown = [names.get(number, number) for number in members[:3]]
        more = len(members) - len(shown)
        return ", ".join(shown) + (f" and {more} more" if more > 0 else "") or "Group"
    return names.get(key.number or "", key.number or "")


"""Sandbox: a simulated phone beside the business's thread, so that one person plays both
sides of a conversation in one window. GET <root>/sandbox picks a phone (its number's last two
digits set how it behaves) and a sandbox line; <root>/sandbox/<line>/<number> shows, on the
left, the business's thread with that phone (the Conversations thread, live) and a compose
box, and on the right the conversation as the phone sees it, with what the phone can do: reply
(text, a picture), read, type, and deliver by hand (a manual phone, `…08`).

Every action goes through the services of the API: the phone's through `SandboxPhones` (as
`/sandbox/phones/{number}/…`), the business's through `MessagingService` (as
`POST /api/send-message`), so each is checked, recorded, streamed and sent to webhooks as the
API's request would be. A line that is not one of the account's sandbox lines is a 404.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from ...api.endpoint import convert
from ...connectors.sandbox import PHONE_BEHAVIOURS
from ...domain.errors import ApiError, not_found
from ...domain.limits import SEND_STYLES
from ...domain.wire.messages import SendMessage
from ...domain.wire.sandbox import PhoneAction, PhoneSends, PhoneTypes
from ...services.conversations import Thread
from ...store.accounts import Account, Line
from ...store.conversations import ConversationKey
from ..forms import attached_file
from ..rendering import page, root_of
from ..services import ConsoleServices
from .conversations import THREAD_PAGE, thread_context, uploaded_media_url

FIELDS = ("content", "send_style", "typing", "number", "line")


def routes(services: ConsoleServices) -> list[BaseRoute]:
    views = _Views(services)
    return [
        Route("/sandbox", views.pick, methods=["GET"]),
        Route("/sandbox/{line}/{number}", views.simulator, methods=["GET"]),
        Route("/sandbox/{line}/{number}/phone", views.phone_live, methods=["GET"]),
        Route("/sandbox/{line}/{number}/send", views.phone_send, methods=["POST"]),
        Route("/sandbox/{line}/{number}/read", views.phone_read, methods=["POST"]),
        Route("/sandbox/{line}/{number}/typing", views.phone_typing, methods=["POST"]),
        Route("/sandbox/{line}/{number}/deliver", views.phone_deliver, methods=["POST"]),
        Route("/sandbox/{line}/{number}/business", views.business_send, methods=["POST"]),
    ]


def simulator_path(line: str, number: str) -> str:
    return f"/sandbox/{quote(line, safe='')}/{quote(number, safe='')}"


class _Views:
    def __init__(self, services: ConsoleServices) -> None:
        self._services = services
        self._phones = services.sandbox_phones

    # -- picking a phone -----------------------------------------------------------------------

    async def pick(self, request: Request) -> Response:
        account = await self._account(request)
        lines = self._phones.sandbox_lines(account)
        raw = request.query_params.get("number", "").strip()
        error = None
        if raw:
            line = request.query_params.get("line", "") or (lines[0].number if lines else "")
            try:
                number = self._phones.phone_number(raw)
                self._line(account, line)
                return RedirectResponse(root_of(request) + simulator_path(line, number),
                                        status_code=303)
            except ApiError as exc:
                error = exc.message
        return page(request, "console/sandbox.html", {
            "lines": [line.number for line in lines],
            "behaviours": _behaviours(),
            "error": error,
            "form": {"number": raw, "line": request.query_params.get("line", "")},
        }, active="sandbox", status=400 if error else 200)

    # -- the simulator -------------------------------------------------------------------------

    async def simulator(self, request: Request, *, error: str | None = None,
                        form: dict[str, str] | None = None, status: int = 200) -> Response:
        account, line, number = await self._target(request)
        key = ConversationKey(line.number, number=number)
        return page(request, "console/sandbox_phone.html", {
            **await self._business(account, key),
            **await self._phone(account, line, number),
            "simulator": simulator_path(line.number, number),
            "send_styles": sorted(SEND_STYLES),
            "error": error,
            "form": form or {},
            "live": True,
        }, active="sandbox", status=status)

    async def phone_live(self, request: Request) -> Response:
        account, line, number = await self._target(request)
        return page(request, "console/_sandbox_phone.html", {
            **await self._phone(account, line, number),
            "simulator": simulator_path(line.number, number),
        })

    async def _business(self, account: Account, key: ConversationKey) -> dict[str, Any]:
        """The business's side: the thread's latest page, or an empty thread (whose live part
        starts showing messages once there are any)."""
        try:
            thread = await self._services.conversations.page(account, key, limit=THREAD_PAGE)
        except ApiError as exc:
            if exc.http_status != 404:
                raise
            thread = Thread(key, messages=[], more=False)
        return thread_context(self._services, thread)

    async def _phone(self, account: Account, line: Line, number: str) -> dict[str, Any]:
        """The phone's side: its messages with `line`, in order, as it sees them."""
        seen = await self._phones.view(account, number)
        talk = next((c for c in seen["conversations"] if c["line"] == line.number), None)
        timeline: list[dict[str, Any]] = []
        if talk is not None:
            for message in talk["received"]:
                if message["group_id"] is None:
                    timeline.append({"mine": False, "at": message["received_at"],
                                     "content": message["content"],
                                     "media": _links([message["media_url"]]),
                                     "status": message["status"],
                                     "read_at": message["read_at"]})
            for message in talk["sent"]:
                if message["group_id"] is None:
                    timeline.append({"mine": True, "at": message["sent_at"],
                                     "content": message["content"],
                                     "media": _links(message["media_urls"]),
                                     "status": None, "read_at": message["read_at"]})
        timeline.sort(key=lambda item: item["at"] or "")
        for item in timeline:
            item["shown"] = _shown(item["at"])
            item["read_shown"] = _shown(item["read_at"])
        typing = talk["typing"] if talk is not None else None
        return {
            "phone": {key: seen[key] for key in ("number", "behaviour", "service",
                                                 "read_receipts", "manual")},
            "line": line.number,
            "timeline": timeline,
            "business_typing": bool(typing and typing["is_typing"]),
        }

    # -- the phone's actions -------------------------------------------------------------------

    async def phone_send(self, request: Request) -> Response:
        account, line, number = await self._target(request)
        form = await _form(request)
        values = _texts(form)
        try:
            attachment = await attached_file(form)
            body = convert({"line": line.number, **({"content": values["content"]}
                                                    if values.get("content", "").strip()
                                                    else {})}, PhoneSends, "body")
            sent = await self._phones.send(account, number, body, attachment=attachment)
        except ApiError as exc:
            return await self.simulator(request, error=exc.message, form=values,
                                        status=exc.http_status)
        if not sent["message_handles"]:  # kept unrouted, as a real stranger's would be
            return await self.simulator(request, error=(
                f"The phone sent it, but {number} is not a contact of this account, so the "
                "message reached no one here. Send the phone a message first, or add it as "
                "a contact."))
        return self._back(request, line, number)

    async def phone_read(self, request: Request) -> Response:
        return await self._act(request, "read")

    async def phone_deliver(self, request: Request) -> Response:
        return await self._act(request, "deliver")

    async def phone_typing(self, request: Request) -> Response:
        account, line, number = await self._target(request)
        form = await _form(request)
        try:
            await self._phones.typing(account, number, PhoneTypes(
                line=line.number, typing=form.get("typing") != "false"))
        except ApiError as exc:
            return await self.simulator(request, error=exc.message, status=exc.http_status)
        return self._back(request, line, number)

    async def _act(self, request: Request, action: str) -> Response:
        account, line, number = await self._target(request)
        await _form(request)
        try:
            act = self._phones.read if action == "read" else self._phones.deliver
            await act(account, number, PhoneAction(line=line.number))
        except ApiError as exc:
            return await self.simulator(request, error=exc.message, status=exc.http_status)
        return self._back(request, line, number)

    # -- the business's reply --------------------------------------------------------------------

    async def business_send(self, request: Request) -> Response:
        account, line, number = await self._target(request)
        form = await _form(request)
        values = _texts(form)
        try:
            fields: dict[str, Any] = {"number": number, "from_number": line.number}
            fields.update({name: values[name] for name in ("content", "send_style")
                           if values.get(name, "").strip()})
            media_url = await uploaded_media_url(self._services, account, form)
            if media_url is not None:
                fields["media_url"] = media_url
            await self._services.messaging.send(account, convert(fields, SendMessage, "body"))
        except ApiError as exc:
            return await self.simulator(request, error=exc.message, form=values,
                                        status=exc.http_status)
        return self._back(request, line, number)

    # -- shared ----------------------------------------------------------------------------------

    async def _account(self, request: Request) -> Account:
        return await self._services.account_of(request.state.session)

    async def _target(self, request: Request) -> tuple[Account, Line, str]:
        """The account, the sandbox line and the phone the URL names; a 404 otherwise."""
        account = await self._account(request)
        raw_line, raw_number = request.path_params["line"], request.path_params["number"]
        line = self._line(account, raw_line)
        try:
            number = self._phones.phone_number(raw_number)
        except ApiError:
            raise not_found(f"{raw_number} is not a sandbox phone") from None
        return account, line, number

    def _line(self, account: Account, raw: str) -> Line:
        line = next((line for line in self._phones.sandbox_lines(account)
                     if line.number == raw.strip()), None)
        if line is None:
            raise not_found(f"{raw} is not a sandbox line of this account")
        return line

    def _back(self, request: Request, line: Line, number: str) -> Response:
        return RedirectResponse(root_of(request) + simulator_path(line.number, number),
                                status_code=303)


async def _form(request: Request) -> FormData:
    return await request.form(max_files=1, max_fields=len(FIELDS) + 2)


def _texts(form: FormData) -> dict[str, str]:
    return {name: value.replace("\x00", "") for name, value in form.items()
            if isinstance(value, str) and name in FIELDS}


def _links(urls: list[str | None]) -> list[str]:
    """Links worth showing as links: http(s) only."""
    return [url for url in urls if url and url.startswith(("https://", "http://"))]


def _shown(iso: str | None) -> str:
    if not iso:
        return ""
    try:
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(UTC).strftime(
            "%H:%M:%S")
    except ValueError:
        return iso


def _behaviours() -> list[dict[str, str]]:
    """Each behaviour a phone can have, with an example number (+1 NPA 555-01XX)."""
    return [{"suffix": suffix, "behaviour": behaviour.value, "example": f"+141555501{suffix}"}
            for suffix, behaviour in sorted(PHONE_BEHAVIOURS.items())]

"""A stand-in BlueBubbles server for tests: the REST routes and webhook payloads of the
reference (`shared/reference/imessage-on-a-mac.md`), on 127.0.0.1 in a thread.

It checks `?password=`, records every call (`calls`), answers sends with a message object as
BlueBubbles does, and refuses the Private API routes while `private_api` is off. Test controls
play the phone's side: `deliver`, `read`, `inbound`, `typing`, `send_error`, `tapback`,
`rename_group`, `leave_group`, `change_group_photo`, `remove_group_photo`, `add_member`,
`remove_member` post webhooks to every URL registered with `POST /api/v1/webhook` (a group
change also as the new-message BlueBubbles sends of it, where the server's source does);
`inbound` can carry attachments, served by `GET /api/v1/attachment/:guid/download` (BlueBubbles
server's route) while in `attachments`, answer a message inline (`threadOriginatorGuid`) and
name a group chat's participants. `PUT /api/v1/chat/:guid` names a chat (`chat_names`),
`POST`/`DELETE /api/v1/chat/:guid/icon` set and remove its photo (`chat_icons`).
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Self

import httpx
from aiohttp import web

from .server import free_port


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, str]
    json: Any = None
    form: dict[str, Any] = field(default_factory=dict)


FILE_BYTES = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
TAPBACKS = ("love", "like", "dislike", "laugh", "emphasize", "question")


def _ms() -> int:
    return time.time_ns() // 1_000_000


class BlueBubblesStandin:
    def __init__(self, password: str = "bb-password", private_api: bool = True) -> None:
        self.password = password
        self.private_api = private_api
        self.refuse_sends = False
        self.sms_only: set[str] = set()  # addresses not on iMessage, for the availability route
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.calls: list[Call] = []
        self.webhooks: list[str] = []
        self.webhook_events: dict[str, list[str]] = {}  # url: the events it was registered for
        self.sent: dict[str, dict[str, Any]] = {}  # tempGuid: the message object
        self.attachments: dict[str, tuple[bytes, str]] = {}  # guid: its bytes and type
        self.chat_names: dict[str, str] = {}  # chat guid: the displayName it was given
        self.chat_icons: dict[str, bytes] = {}  # chat guid: its photo's bytes
        self.handle_ids: dict[str, int] = {}  # address: its row id in the Mac's handle table
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None

    # -- life ---------------------------------------------------------------------------------

    def start(self) -> Self:
        ready = threading.Event()

        def run() -> None:
            loop = self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._runner = web.AppRunner(self._app())
            loop.run_until_complete(self._runner.setup())
            loop.run_until_complete(web.TCPSite(self._runner, "127.0.0.1", self.port).start())
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=run, daemon=True, name="bluebubbles-standin")
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the BlueBubbles stand-in did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    def calls_to(self, method: str, path: str) -> list[Call]:
        return [c for c in list(self.calls) if c.method == method and c.path == path]

    # -- the server ---------------------------------------------------------------------------

    def _app(self) -> web.Application:
        app = web.Application(middlewares=[self._record])
        app.router.add_get("/api/v1/server/info", self._server_info)
        app.router.add_post("/api/v1/message/text", self._send_text)
        app.router.add_post("/api/v1/message/attachment", self._send_attachment)
        app.router.add_post("/api/v1/message/react", self._private(self._react))
        app.router.add_put("/api/v1/chat/{guid}", self._private(self._update_chat))
        app.router.add_post("/api/v1/chat/{guid}/icon", self._private(self._set_icon))
        app.router.add_delete("/api/v1/chat/{guid}/icon", self._private(self._remove_icon))
        app.router.add_post("/api/v1/chat/{guid}/read", self._private(self._ok))
        app.router.add_post("/api/v1/chat/{guid}/typing", self._private(self._ok))
        app.router.add_delete("/api/v1/chat/{guid}/typing", self._private(self._ok))
        app.router.add_get("/api/v1/handle/availability/imessage",
                           self._private(self._availability))
        app.router.add_post("/api/v1/webhook", self._webhook)
        app.router.add_get("/api/v1/webhook", self._webhooks)
        app.router.add_delete("/api/v1/webhook/{id}", self._remove_webhook)
        app.router.add_get("/api/v1/attachment/{guid}/download", self._download)
        app.router.add_get("/files/{name}", self._file)  # a CDN for media_url, no password
        return app

    @web.middleware
    async def _record(self, request: web.Request, handler: Any) -> web.StreamResponse:
        call = Call(request.method, request.path, dict(request.query))
        if request.content_type == "application/json":
            call.json = await request.json()
        elif request.content_type == "multipart/form-data":
            form = await request.post()
            call.form = {k: (v.file.read() if isinstance(v, web.FileField) else v)
                         for k, v in form.items()}
        self.calls.append(call)
        if request.path.startswith("/api/") and request.query.get("password") != self.password:
            return _answer(401, "Unauthorized", error="You are not authorized")
        return await handler(request)

    async def _server_info(self, request: web.Request) -> web.Response:
        return _answer(200, "Successfully fetched server info", data={
            "computer_id": "standin", "os_version": "14.5", "server_version": "1.9.7",
            "private_api": self.private_api, "helper_connected": self.private_api,
            "proxy_service": "lan-url", "detected_icloud": "standin@icloud.com"})

    async def _send_text(self, request: web.Request) -> web.Response:
        body = self.calls[-1].json or {}
        reply_to = body.get("selectedMessageGuid")
        # A reply (selectedMessageGuid) is always sent with the Private API.
        if reply_to and not self.private_api:
            return _answer(500, "iMessage Private API Helper is not connected!",
                           error="Private API is not enabled")
        return self._sent(body.get("chatGuid"), body.get("tempGuid"), body.get("message"),
                          reply_to=reply_to)

    async def _send_attachment(self, request: web.Request) -> web.Response:
        form = self.calls[-1].form
        return self._sent(form.get("chatGuid"), form.get("tempGuid"), "",
                          attachments=[{"guid": str(uuid.uuid4()),
                                        "transferName": form.get("name")}])

    def _sent(self, chat: Any, temp: Any, text: Any,
              attachments: list[dict[str, Any]] | None = None,
              reply_to: Any = None) -> web.Response:
        if self.refuse_sends:
            return _answer(500, "Message Send Error", error="Failed to send message!")
        message = {"guid": str(uuid.uuid4()).upper(), "tempGuid": temp, "text": text,
                   "handle": None, "isFromMe": True, "dateCreated": _ms(), "dateDelivered": None,
                   "dateRead": None, "isDelivered": False, "error": 0,
                   "chats": [{"guid": chat}], "attachments": attachments or [],
                   "associatedMessageGuid": None, "associatedMessageType": None,
                   "threadOriginatorGuid": reply_to or None}
        self.sent[str(temp)] = message
        return _answer(200, "Message sent!", data=message)

    async def _react(self, request: web.Request) -> web.Response:
        """BlueBubbles' `message/react`: a tapback message on `selectedMessageGuid`."""
        body = self.calls[-1].json or {}
        chat, target = body.get("chatGuid"), body.get("selectedMessageGuid")
        reaction, part = body.get("reaction"), body.get("partIndex") or 0
        if not chat or not target or not isinstance(reaction, str) \
                or reaction.removeprefix("-") not in TAPBACKS:
            return _answer(400, "Bad Request", error="chatGuid, selectedMessageGuid and a "
                                                     "valid reaction are required")
        return _answer(200, "Reaction sent!", data={
            "guid": str(uuid.uuid4()).upper(), "text": "", "isFromMe": True,
            "dateCreated": _ms(), "chats": [{"guid": chat}], "attachments": [],
            "associatedMessageGuid": f"p:{part}/{target}", "associatedMessageType": reaction})

    async def _update_chat(self, request: web.Request) -> web.Response:
        """BlueBubbles' `PUT chat/:guid`: `displayName` (at least one character) names a
        group chat."""
        guid = request.match_info["guid"]
        name = (self.calls[-1].json or {}).get("displayName")
        if name is not None and (not isinstance(name, str) or not name):
            return _answer(400, "Bad Request", error="displayName must be at least 1 character")
        if name and ";+;" not in guid:
            return _answer(500, "Cannot rename a non-group chat!", error="Chat is not a group")
        if name:
            self.chat_names[guid] = name
        return _answer(200, "Successfully updated the following fields: displayName",
                       data={"guid": guid, "displayName": self.chat_names.get(guid, "")})

    async def _set_icon(self, request: web.Request) -> web.Response:
        """BlueBubbles' `POST chat/:guid/icon`: multipart, the picture as `icon`."""
        icon = self.calls[-1].form.get("icon")
        if not isinstance(icon, bytes) or not icon:
            return _answer(400, "Bad Request", error="Icon not provided or was empty!")
        self.chat_icons[request.match_info["guid"]] = icon
        return _answer(200, "Successfully set group chat icon!")

    async def _remove_icon(self, request: web.Request) -> web.Response:
        self.chat_icons.pop(request.match_info["guid"], None)
        return _answer(200, "Successfully removed group chat icon!")

    def _private(self, handler: Any) -> Any:
        async def guarded(request: web.Request) -> web.Response:
            if not self.private_api:
                return _answer(500, "iMessage Private API Helper is not connected!",
                               error="Private API is not enabled")
            return await handler(request)
        return guarded

    async def _file(self, request: web.Request) -> web.Response:
        return web.Response(body=FILE_BYTES, content_type="image/png")

    async def _download(self, request: web.Request) -> web.Response:
        found = self.attachments.get(request.match_info["guid"])
        if found is None:
            return _answer(404, "Attachment does not exist!", error="Attachment not found")
        data, content_type = found
        return web.Response(body=data, content_type=content_type)

    async def _ok(self, request: web.Request) -> web.Response:
        return _answer(200, "Success")

    async def _availability(self, request: web.Request) -> web.Response:
        address = request.query.get("address")
        if not address:
            return _answer(400, "Bad Request", error="An address is required")
        return _answer(200, "Success", data={"available": address not in self.sms_only})

    async def _webhook(self, request: web.Request) -> web.Response:
        """BlueBubbles' `POST webhook`: a URL registered already is kept as it was."""
        body = self.calls[-1].json or {}
        url = body.get("url")
        if url not in self.webhooks:
            self.webhooks.append(url)
            self.webhook_events[url] = list(body.get("events") or [])
        return _answer(200, "Successfully created webhook!", data=self._hook(url))

    async def _webhooks(self, request: web.Request) -> web.Response:
        url = request.query.get("url")
        return _answer(200, "Successfully fetched webhooks!", data=[
            self._hook(u) for u in self.webhooks if url is None or u == url])

    async def _remove_webhook(self, request: web.Request) -> web.Response:
        found = [u for u in self.webhooks if str(self._hook(u)["id"]) == request.match_info["id"]]
        if not found:
            return _answer(404, "Not Found", error="Webhook does not exist!")
        self.webhooks.remove(found[0])
        self.webhook_events.pop(found[0], None)
        return _answer(200, "Successfully deleted webhook!")

    def _hook(self, url: str) -> dict[str, Any]:
        return {"id": abs(hash(url)) % 1_000_000 + 1, "url": url,
                "events": self.webhook_events.get(url, [])}

    # -- the phone's side ---------------------------------------------------------------------

    def post(self, event: str, data: dict[str, Any]) -> list[int]:
        """Send a webhook to every registered URL; their HTTP statuses."""
        return [httpx.post(url, json={"type": event, "data": data}, timeout=10).status_code
                for url in self.webhooks]

    def deliver(self, temp_guid: str) -> list[int]:
        message = self.sent[temp_guid]
        message.update(isDelivered=True, dateDelivered=_ms())
        return self.post("updated-message", message)

    def read(self, temp_guid: str) -> list[int]:
        message = self.sent[temp_guid]
        message.update(dateRead=_ms())
        return self.post("updated-message", message)

    def send_error(self, temp_guid: str, error: int = 22) -> list[int]:
        message = self.sent[temp_guid]
        message.update(error=error)
        return self.post("message-send-error", message)

    def inbound(self, address: str, text: str, chat: str | None = None,
                attachments: list[dict[str, Any]] | None = None, reply_to: str | None = None,
                participants: list[str] | None = None, guid: str | None = None) -> list[int]:
        """The phone at `address` sends `text`; `reply_to`: the guid of the message it
        answers inline; `participants`: a group chat's members, as BlueBubbles lists them in
        its webhooks' chats."""
        listed = {"guid": chat or f"iMessage;-;{address}"}
        if participants is not None:
            listed["participants"] = [{"address": p, "service": "iMessage"}
                                      for p in participants]
        return self.post("new-message", {
            "guid": guid or str(uuid.uuid4()).upper(), "text": text,
            "handle": {"address": address, "service": "iMessage"}, "isFromMe": False,
            "dateCreated": _ms(), "chats": [listed],
            "attachments": attachments or [], "associatedMessageGuid": None,
            "associatedMessageType": None, "threadOriginatorGuid": reply_to})

    def rename_group(self, address: str, chat: str, name: str) -> list[int]:
        """The phone at `address` names the group chat `chat` (a group-name-change: the
        message that says so, its `groupTitle` the new name)."""
        return self.post("group-name-change", {
            "guid": str(uuid.uuid4()).upper(), "text": None, "itemType": 2,
            "groupActionType": 0, "groupTitle": name,
            "handle": {"address": address, "service": "iMessage"}, "isFromMe": False,
            "dateCreated": _ms(), "chats": [{"guid": chat}], "attachments": []})

    def leave_group(self, address: str, chat: str) -> list[int]:
        """The phone at `address` leaves the group chat `chat` (a participant-left)."""
        return self.post("participant-left", {
            "guid": str(uuid.uuid4()).upper(), "text": None, "itemType": 3,
            "groupActionType": 1, "groupTitle": None,
            "handle": {"address": address, "service": "iMessage"}, "isFromMe": False,
            "dateCreated": _ms(), "chats": [{"guid": chat}], "attachments": []})

    # A group change is a message whose itemType and groupActionType say which (BlueBubbles
    # server's MessagePoller.handleGroupChanges); it is sent as its own webhook and, being a
    # new row, as a new-message too. `otherHandle` is the row id of the member concerned, and
    # the chat lists its participants as they are after the change.

    def change_group_photo(self, address: str, chat: str,
                           picture: dict[str, Any] | None) -> list[int]:
        """The phone at `address` gives the group chat `chat` a new photo, `picture` (an
        `attachment`; None: one that cannot be downloaded)."""
        picture = picture or self.attachment("GroupPhoto.jpeg", served=False)
        return self._group_change("group-icon-changed", address, chat, 3, 1,
                                  attachments=[picture])

    def remove_group_photo(self, address: str, chat: str) -> list[int]:
        return self._group_change("group-icon-removed", address, chat, 3, 2)

    def add_member(self, address: str, chat: str, added: str, now: list[str]) -> list[int]:
        """The phone at `address` adds `added` to `chat`, whose members are then `now`."""
        return self._group_change("participant-added", address, chat, 1, 0,
                                  other=self.handle_id(added), participants=now)

    def remove_member(self, address: str, chat: str, removed: str,
                      now: list[str]) -> list[int]:
        """The phone at `address` removes `removed` from `chat`, whose members are then
        `now` (`removed` no longer among them)."""
        return self._group_change("participant-removed", address, chat, 1, 1,
                                  other=self.handle_id(removed), participants=now)

    def handle_id(self, address: str) -> int:
        return self.handle_ids.setdefault(address, len(self.handle_ids) + 1)

    def _group_change(self, event: str, address: str, chat: str, item_type: int, action: int,
                      *, other: int = 0, participants: list[str] | None = None,
                      attachments: list[dict[str, Any]] | None = None) -> list[int]:
        listed: dict[str, Any] = {"guid": chat, "style": 43}
        if participants is not None:
            listed["participants"] = [{"originalROWID": self.handle_id(p), "address": p,
                                       "service": "iMessage"} for p in participants]
        data = {"guid": str(uuid.uuid4()).upper(), "text": None, "itemType": item_type,
                "groupActionType": action, "groupTitle": None, "otherHandle": other,
                "handle": {"originalROWID": self.handle_id(address), "address": address,
                           "service": "iMessage"},
                "isFromMe": False, "dateCreated": _ms(), "chats": [listed],
                "attachments": attachments or [], "associatedMessageGuid": None,
                "associatedMessageType": None}
        return self.post("new-message", data) + self.post(event, data)

    def tapback(self, address: str, target_guid: str, reaction: str | int,
                part: int = 0, chat: str | None = None) -> list[int]:
        """The phone at `address` puts a tapback on (`-love`, or code 3000-3005: takes it off)
        the message `target_guid`, as BlueBubbles reports it: a new-message naming it."""
        return self.post("new-message", {
            "guid": str(uuid.uuid4()).upper(), "text": f"{reaction} a message",
            "handle": {"address": address, "service": "iMessage"}, "isFromMe": False,
            "dateCreated": _ms(), "chats": [{"guid": chat or f"iMessage;-;{address}"}],
            "attachments": [], "associatedMessageGuid": f"p:{part}/{target_guid}",
            "associatedMessageType": reaction})

    def attachment(self, name: str = "IMG_0001.png", data: bytes = FILE_BYTES,
                   mime_type: str = "image/png", served: bool = True) -> dict[str, Any]:
        """An attachment object for `inbound`; its bytes downloadable unless not `served`."""
        guid = f"at_0_{uuid.uuid4()}".upper()
        if served:
            self.attachments[guid] = (data, mime_type)
        return {"guid": guid, "transferName": name, "mimeType": mime_type,
                "totalBytes": len(data), "uti": "public.png"}

    def typing(self, address: str, display: bool = True) -> list[int]:
        return self.post("typing-indicator", {"display": display,
                                              "guid": f"iMessage;-;{address}"})


def _answer(status: int, message: str, *, data: Any = None,
            error: str | None = None) -> web.Response:
    body: dict[str, Any] = {"status": status, "message": message}
    if data is not None:
        body["data"] = data
    if error is not None:
        body["error"] = {"type": "Server Error", "message": error}
    return web.json_response(body, status=status)

"""A small client for one BlueBubbles server's REST API (`/api/v1/…`, `?password=` on every
call), as the reference describes it (`shared/reference/imessage-on-a-mac.md`)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp

SEND_TIMEOUT_S = 30.0  # sends are known to hang for minutes: give up well before that
CALL_TIMEOUT_S = 10.0
DOWNLOAD_TIMEOUT_S = 120.0
WEBHOOK_EVENTS = ("new-message", "updated-message", "message-send-error", "typing-indicator",
                  "group-name-change", "participant-left", "group-icon-changed",
                  "group-icon-removed", "participant-added", "participant-removed")


class BlueBubblesError(Exception):
    """A call the server refused (`status` its HTTP status) or that did not complete (None)."""

    def __init__(self, status: int | None, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ServerInfo:
    private_api: bool
    os_version: str | None


class BlueBubblesClient:
    def __init__(self, session: aiohttp.ClientSession, url: str, password: str) -> None:
        self._session = session
        self.url = url.rstrip("/")
        self._password = password

    async def server_info(self) -> ServerInfo:
        data = await self._call("GET", "server/info")
        info = data if isinstance(data, dict) else {}
        # `private_api` is whether it is turned on; `helper_connected` (when reported) whether
        # the helper inside Messages is actually running, without which private calls fail.
        private_api = _truthy(info.get("private_api", info.get("privateApi")))
        helper = info.get("helper_connected", info.get("helperConnected"))
        os_version = info.get("os_version") or info.get("osVersion")
        return ServerInfo(private_api and helper is not False,
                          str(os_version) if os_version else None)

    async def send_text(self, chat_guid: str, temp_guid: str, text: str, method: str,
                        reply_to: tuple[str, int] | None = None) -> dict[str, Any]:
        """`reply_to`: (guid, part) of the message it answers inline (Private API)."""
        body: dict[str, Any] = {"chatGuid": chat_guid, "tempGuid": temp_guid, "message": text,
                                "method": method}
        if reply_to is not None:
            body.update(selectedMessageGuid=reply_to[0], partIndex=reply_to[1])
        return _message(await self._call("POST", "message/text", json=body,
                                         limit_s=SEND_TIMEOUT_S))

    async def send_attachment(self, chat_guid: str, temp_guid: str, name: str, data: bytes,
                              content_type: str, method: str,
                              reply_to: tuple[str, int] | None = None) -> dict[str, Any]:
        form = aiohttp.FormData()
        form.add_field("chatGuid", chat_guid)
        form.add_field("tempGuid", temp_guid)
        form.add_field("name", name)
        form.add_field("method", method)
        if reply_to is not None:
            form.add_field("selectedMessageGuid", reply_to[0])
            form.add_field("partIndex", str(reply_to[1]))
        form.add_field("attachment", data, filename=name, content_type=content_type)
        return _message(await self._call("POST", "message/attachment", data=form,
                                         limit_s=SEND_TIMEOUT_S))

    async def mark_read(self, chat_guid: str) -> None:
        await self._call("POST", f"chat/{quote(chat_guid, safe='')}/read")

    async def set_typing(self, chat_guid: str, typing: bool) -> None:
        await self._call("POST" if typing else "DELETE",
                         f"chat/{quote(chat_guid, safe='')}/typing")

    async def react(self, chat_guid: str, message_guid: str, reaction: str,
                    part_index: int = 0) -> None:
        """A tapback (Private API): `reaction` is love, like, … or -love, … to take one off."""
        await self._call("POST", "message/react", json={
            "chatGuid": chat_guid, "selectedMessageGuid": message_guid, "reaction": reaction,
            "partIndex": part_index}, limit_s=SEND_TIMEOUT_S)

    async def rename_chat(self, chat_guid: str, name: str) -> None:
        """Name a group chat (Private API); BlueBubbles takes no empty name."""
        await self._call("PUT", f"chat/{quote(chat_guid, safe='')}",
                         json={"displayName": name}, limit_s=SEND_TIMEOUT_S)

    async def set_chat_icon(self, chat_guid: str, name: str, data: bytes,
                            content_type: str) -> None:
        """A group chat's photo (Private API): multipart, the picture as `icon`."""
        form = aiohttp.FormData()
        form.add_field("icon", data, filename=name, content_type=content_type)
        await self._call("POST", f"chat/{quote(chat_guid, safe='')}/icon", data=form,
                         limit_s=SEND_TIMEOUT_S)

    async def remove_chat_icon(self, chat_guid: str) -> None:
        await self._call("DELETE", f"chat/{quote(chat_guid, safe='')}/icon",
                         limit_s=SEND_TIMEOUT_S)

    async def imessage_available(self, address: str) -> bool | None:
        data = await self._call("GET", "handle/availability/imessage",
                                params={"address": address})
        value = data.get("available") if isinstance(data, dict) else data
        return value if isinstance(value, bool) else None

    async def download_attachment(self, guid: str, max_bytes: int,
                                  limit_s: float = DOWNLOAD_TIMEOUT_S) -> tuple[bytes, str | None]:
        """An attachment's bytes and content type, by BlueBubbles server's documented route
        `GET attachment/:guid/download` (the reference only lists `attachments [...]` in its
        message objects). Refused if larger than `max_bytes`. Errors never carry the URL,
        which holds the password."""
        try:
            async with self._session.get(
                f"{self.url}/api/v1/attachment/{quote(guid, safe='')}/download",
                params={"password": self._password},
                timeout=aiohttp.ClientTimeout(total=limit_s),
            ) as response:
                if response.status != 200:
                    raise BlueBubblesError(response.status,
                                           f"BlueBubbles answered {response.status}")
                if (response.content_length or 0) > max_bytes:
                    raise _too_large(max_bytes)
                data = await response.content.read(max_bytes + 1)
                content_type = response.content_type
        except TimeoutError:
            raise BlueBubblesError(None, f"no attachment from BlueBubbles within "
                                         f"{limit_s:g}s") from None
        except aiohttp.ClientError as exc:
            raise BlueBubblesError(None, "BlueBubbles could not be reached: "
                                         f"{type(exc).__name__}") from None
        if len(data) > max_bytes:
            raise _too_large(max_bytes)
        return data, content_type

    async def register_webhook(self, url: str) -> None:
        """Have the server send our events to `url`. It keeps a URL's first registration
        as it was (registering it again changes nothing) and cannot update one, so one made
        before some of our events were asked for is removed and made anew."""
        found = await self._call("GET", "webhook", params={"url": url})
        for hook in found if isinstance(found, list) else []:
            if isinstance(hook, dict) and hook.get("url") == url \
                    and isinstance(hook.get("id"), int) and _lacks_events(hook.get("events")):
                await self._call("DELETE", f"webhook/{hook['id']}")
        await self._call("POST", "webhook", json={"url": url, "events": list(WEBHOOK_EVENTS)})

    async def _call(self, method: str, path: str, *, limit_s: float = CALL_TIMEOUT_S,
                    params: dict[str, str] | None = None, **kwargs: Any) -> Any:
        """The `data` of the server's answer `{status, message, data}`."""
        query = {"password": self._password, **(params or {})}
        try:
            async with self._session.request(
                method, f"{self.url}/api/v1/{path}", params=query,
                timeout=aiohttp.ClientTimeout(total=limit_s), **kwargs,
            ) as response:
                try:
                    body = await response.json(content_type=None)
                except ValueError:
                    body = None
                if not 200 <= response.status < 300:
                    raise BlueBubblesError(response.status, _refusal(response.status, body))
        except TimeoutError:
            raise BlueBubblesError(None, f"no answer from BlueBubbles within {limit_s:g}s "
                                         f"({method} {path})") from None
        except aiohttp.ClientError as exc:
            raise BlueBubblesError(None, f"BlueBubbles could not be reached: {exc}") from None
        except asyncio.CancelledError:
            raise
        return body.get("data") if isinstance(body, dict) else None


def _refusal(status: int, body: Any) -> str:
    detail = ""
    if isinstance(body, dict):
        error = body.get("error")
        detail = (error.get("message") if isinstance(error, dict) else None) \
            or body.get("message") or ""
    return f"BlueBubbles answered {status}" + (f": {detail}" if detail else "")


def _lacks_events(events: Any) -> bool:
    """Whether a registered webhook's `events` miss one of ours (`*` is every event)."""
    listed = set(events) if isinstance(events, list) else set()
    return "*" not in listed and not set(WEBHOOK_EVENTS) <= listed


def _too_large(max_bytes: int) -> BlueBubblesError:
    return BlueBubblesError(None, f"the attachment is larger than {max_bytes} bytes")


def _message(data: Any) -> dict[str, Any]:
    return data if isinstance(data, dict) else {}


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")

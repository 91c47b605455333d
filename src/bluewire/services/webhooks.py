"""`/api/account/webhooks`: an account's webhook endpoints, as Sendblue's docs shape them.

Secrets are write-only: they are sealed before they are stored (store/secret_box.py), and an
answer shows only a hint (`…` and the last four characters) that one is set."""

from __future__ import annotations

import unicodedata
from dataclasses import replace
from typing import Any

from msgspec import UNSET

from ..domain.errors import validation_error
from ..domain.limits import check_http_url
from ..domain.phones import InvalidNumber, parse_e164
from ..domain.webhooks import ENDPOINT_TYPES
from ..domain.wire.webhooks import (
    AddWebhooks,
    Entry,
    RemoveWebhooks,
    ReplaceWebhooks,
    WebhookEntry,
)
from ..store import webhooks as store
from ..store.accounts import Account
from ..store.database import Database, now_ms
from ..store.secret_box import SecretBox, hint
from ..store.webhooks import Endpoint, NewEndpoint
from ..store.writer import Tx, Writer
from .outbox import WebhookDirectory
from .webhook_targets import WebhookTargets


class WebhookConfig:
    def __init__(self, database: Database, writer: Writer, directory: WebhookDirectory,
                 targets: WebhookTargets, box: SecretBox) -> None:
        self._database = database
        self._writer = writer
        self._directory = directory
        self._targets = targets
        self._box = box

    async def get(self, account: Account) -> dict[str, Any]:
        endpoints, signing = await self._database.read_async(
            lambda conn: (store.endpoints_of(conn, account.id),
                          store.account_signing_of(conn, account.id)))
        answer: dict[str, Any] = {"status": "OK", "webhooks": self._shape(endpoints)}
        if signing.secret is not None:
            answer["global_secret_hint"] = hint(self._box.open(signing.secret))
        answer["send_secret_header"] = signing.send_secret_header
        return answer

    async def endpoints(self, account: Account) -> list[Endpoint]:
        """The account's endpoints with their ids, in the order `get` shapes them."""
        return await self._database.read_async(
            lambda conn: store.endpoints_of(conn, account.id))

    async def has_global_secret(self, account: Account) -> bool:
        """Whether the account has a globalSecret (never the secret itself)."""
        secret = await self._database.read_async(
            lambda conn: store.global_secret_of(conn, account.id))
        return bool(secret)

    async def append(self, account: Account, body: AddWebhooks) -> dict[str, Any]:
        type_ = body.type
        new = self._entries(body.webhooks, type_, "webhooks")
        secret = body.globalSecret
        if secret is not UNSET:  # null or "" removes it
            secret = self._seal(secret or None, "globalSecret")
        header = body.send_secret_header
        await self._targets.check_all(_url_fields(new, body.webhooks, "webhooks"))

        def op(tx: Tx) -> None:
            store.add_endpoints(tx, account.id, new, now_ms())
            if secret is not UNSET:
                store.set_global_secret(tx, account.id, secret)
            if header is not UNSET:
                store.set_send_secret_header(tx, account.id, header)

        await self._write(account, op)
        return {"status": "OK", "message": f"Added {len(new)} {type_} webhook(s)",
                **(await self.get(account))}

    async def replace(self, account: Account, body: ReplaceWebhooks) -> dict[str, Any]:
        config = body.webhooks
        new: list[NewEndpoint] = []
        fields: list[tuple[str, str]] = []
        for type_ in ENDPOINT_TYPES:
            entries = getattr(config, type_)
            if entries is UNSET:
                continue
            added = self._entries(entries, type_, f"webhooks.{type_}")
            new.extend(added)
            fields.extend(_url_fields(added, entries, f"webhooks.{type_}"))
        secret = self._seal(config.globalSecret or None, "webhooks.globalSecret")
        header = config.send_secret_header
        await self._targets.check_all(fields)

        def op(tx: Tx) -> None:
            store.remove_all_endpoints(tx, account.id)
            store.add_endpoints(tx, account.id, new, now_ms())
            store.set_global_secret(tx, account.id, secret)
            if header is not UNSET:  # left out: unchanged
                store.set_send_secret_header(tx, account.id, header)

        await self._write(account, op)
        return {"status": "OK", "message": "Webhooks replaced", **(await self.get(account))}

    async def remove(self, account: Account, body: RemoveWebhooks) -> dict[str, Any]:
        urls, type_ = body.webhooks, body.type
        removed = await self._write(
            account, lambda tx: store.remove_endpoints(tx, account.id, urls, type_))
        return {"status": "OK", "message": f"Removed {removed} webhook(s)"}

    async def _write(self, account: Account, op):  # type: ignore[no-untyped-def]
        try:
            return await self._writer.submit(op)
        finally:
            self._directory.forget(account.id)

    def _seal(self, secret: str | None, where: str) -> str | None:
        """A secret as stored: checked, then sealed."""
        if secret is None:
            return None
        if _has_control(secret):
            raise validation_error(f"`{where}` must not contain control characters")
        return self._box.seal(secret)

    def _entries(self, entries: list[Entry], type_: str, where: str) -> list[NewEndpoint]:
        return [self._entry(entry, type_, f"{where}[{index}]")
                for index, entry in enumerate(entries)]

    def _entry(self, entry: Entry, type_: str, where: str) -> NewEndpoint:
        new = _entry(entry, type_, where)
        if new.secret is None:
            return new
        return replace(new, secret=self._seal(new.secret, f"{where}.secret"))

    def _shape(self, endpoints: list[Endpoint]) -> dict[str, list[Any]]:
        """Plain URL strings where an endpoint has nothing more, objects otherwise; no empty
        keys (the Sendblue CLI iterates every key as a list). Never a secret: its hint."""
        shaped: dict[str, list[Any]] = {}
        for endpoint in endpoints:
            if (endpoint.secret is None and endpoint.lines is None
                    and endpoint.send_secret_header):
                entry: Any = endpoint.url
            else:
                entry = {"url": endpoint.url}
                if endpoint.secret is not None:
                    entry["secret_hint"] = hint(self._box.open(endpoint.secret))
                if endpoint.lines is not None:
                    entry["sendblue_numbers"] = list(endpoint.lines)
                if not endpoint.send_secret_header:
                    entry["send_secret_header"] = False
            shaped.setdefault(endpoint.type, []).append(entry)
        return shaped


def _entry(entry: Entry, type_: str, where: str) -> NewEndpoint:
    if isinstance(entry, str):
        return NewEndpoint(type_, _url(entry, where))
    url = _url(entry.url, f"{where}.url")
    lines: tuple[str, ...] | None = None
    if entry.sendblue_numbers is not None:
        parsed = []
        for index, number in enumerate(entry.sendblue_numbers):
            try:
                parsed.append(parse_e164(number))
            except InvalidNumber:
                parsed.append("")
            if not parsed[-1]:
                raise validation_error(f"`{where}.sendblue_numbers[{index}]` is not an E.164 "
                                       "phone number")
        lines = tuple(parsed) or None
    return NewEndpoint(type_, url, entry.secret or None, lines,
                       entry.send_secret_header is not False)


def _url_fields(new: list[NewEndpoint], entries: list[Entry],
                where: str) -> list[tuple[str, str]]:
    """Each accepted entry's URL, and the field that named it."""
    return [(endpoint.url,
             f"{where}[{index}]{'.url' if isinstance(entry, WebhookEntry) else ''}")
            for index, (endpoint, entry) in enumerate(zip(new, entries, strict=True))]


def _url(value: object, where: str) -> str:
    try:
        url = check_http_url(value, where)
    except Exception as exc:
        raise validation_error(f"{exc} (got {value!r})") from None
    if _has_control(url):  # a NUL or a line break would reach logs, headers, receivers
        raise validation_error(f"`{where}` must not contain control characters "
                               f"(got {value!r})")
    return url


def _has_control(text: str) -> bool:
    return any(unicodedata.category(char) == "Cc" for char in text)

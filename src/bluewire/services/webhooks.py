"""`/api/account/webhooks`: an account's webhook endpoints, as the reference shapes them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..domain.errors import validation_error
from ..domain.limits import check_http_url
from ..domain.phones import InvalidNumber, parse_e164
from ..domain.webhooks import ENDPOINT_TYPES
from ..store import webhooks as store
from ..store.accounts import Account
from ..store.database import Database, now_ms
from ..store.webhooks import Endpoint, NewEndpoint
from ..store.writer import Tx, Writer
from .outbox import WebhookDirectory
from .webhook_targets import WebhookTargets

MAX_SECRET_CHARS = 256


class WebhookConfig:
    def __init__(self, database: Database, writer: Writer, directory: WebhookDirectory,
                 targets: WebhookTargets) -> None:
        self._database = database
        self._writer = writer
        self._directory = directory
        self._targets = targets

    async def get(self, account: Account) -> dict[str, Any]:
        endpoints = await self._database.read_async(
            lambda conn: store.endpoints_of(conn, account.id))
        return {"status": "OK", "webhooks": _shape(endpoints)}

    async def append(self, account: Account, body: Mapping[str, Any]) -> dict[str, Any]:
        type_ = _type(body.get("type", "receive"))
        if "webhooks" not in body:
            raise validation_error("`webhooks` is required: a list of URLs or {url, secret, "
                                   "sendblue_numbers} objects")
        new = _entries(body["webhooks"], type_, "webhooks")
        secret = _global_secret(body)
        await self._targets.check_all(_url_fields(new, body["webhooks"], "webhooks"))

        def op(tx: Tx) -> None:
            store.add_endpoints(tx, account.id, new, now_ms())
            if secret is not _UNSET:
                store.set_global_secret(tx, account.id, secret)  # type: ignore[arg-type]

        await self._write(account, op)
        return {"status": "OK", "message": f"Added {len(new)} {type_} webhook(s)",
                **(await self.get(account))}

    async def replace(self, account: Account, body: Mapping[str, Any]) -> dict[str, Any]:
        config = body.get("webhooks")
        if not isinstance(config, dict):
            raise validation_error("`webhooks` is required: an object of webhook lists by "
                                   "type, e.g. {\"receive\": [\"https://…\"]}; {} clears all")
        new: list[NewEndpoint] = []
        fields: list[tuple[str, str]] = []
        for key, entries in config.items():
            if key == "globalSecret":
                continue
            added = _entries(entries, _type(key), f"webhooks.{key}")
            new.extend(added)
            fields.extend(_url_fields(added, entries, f"webhooks.{key}"))
        secret = _global_secret(config)
        await self._targets.check_all(fields)

        def op(tx: Tx) -> None:
            store.remove_all_endpoints(tx, account.id)
            store.add_endpoints(tx, account.id, new, now_ms())
            store.set_global_secret(tx, account.id,
                                    None if secret is _UNSET else secret)  # type: ignore[arg-type]

        await self._write(account, op)
        return {"status": "OK", "message": "Webhooks replaced", **(await self.get(account))}

    async def remove(self, account: Account, body: Mapping[str, Any]) -> dict[str, Any]:
        urls = body.get("webhooks")
        if not isinstance(urls, list) or not urls or not all(isinstance(u, str) for u in urls):
            raise validation_error("`webhooks` is required: the list of URLs to remove")
        type_ = _type(body["type"]) if body.get("type") is not None else None
        removed = await self._write(
            account, lambda tx: store.remove_endpoints(tx, account.id, urls, type_))
        return {"status": "OK", "message": f"Removed {removed} webhook(s)"}

    async def _write(self, account: Account, op):  # type: ignore[no-untyped-def]
        try:
            return await self._writer.submit(op)
        finally:
            self._directory.forget(account.id)


_UNSET = object()


def _global_secret(body: Mapping[str, Any]) -> object:
    if "globalSecret" not in body:
        return _UNSET
    secret = body["globalSecret"]
    if secret is None or secret == "":
        return None
    if not isinstance(secret, str) or len(secret) > MAX_SECRET_CHARS:
        raise validation_error(f"`globalSecret` must be a string of at most {MAX_SECRET_CHARS} "
                               "characters")
    return secret


def _type(value: object) -> str:
    if value not in ENDPOINT_TYPES:
        raise validation_error(f"`type` must be one of: {', '.join(ENDPOINT_TYPES)}")
    return value  # type: ignore[return-value]


def _entries(entries: object, type_: str, where: str) -> list[NewEndpoint]:
    if not isinstance(entries, list):
        raise validation_error(f"`{where}` must be a list of URLs or {{url, secret, "
                               "sendblue_numbers}} objects")
    return [_entry(entry, type_, f"{where}[{index}]") for index, entry in enumerate(entries)]


def _entry(entry: object, type_: str, where: str) -> NewEndpoint:
    if isinstance(entry, str):
        return NewEndpoint(type_, _url(entry, where))
    if not isinstance(entry, dict):
        raise validation_error(f"`{where}` must be a URL string or an object with a `url`")
    url = _url(entry.get("url"), f"{where}.url")
    secret = entry.get("secret")
    if secret is not None and (not isinstance(secret, str) or len(secret) > MAX_SECRET_CHARS):
        raise validation_error(f"`{where}.secret` must be a string of at most "
                               f"{MAX_SECRET_CHARS} characters")
    numbers = entry.get("sendblue_numbers")
    lines: tuple[str, ...] | None = None
    if numbers is not None:
        if not isinstance(numbers, list):
            raise validation_error(f"`{where}.sendblue_numbers` must be a list of E.164 numbers")
        parsed = []
        for index, number in enumerate(numbers):
            try:
                parsed.append(parse_e164(number) if isinstance(number, str) else "")
            except InvalidNumber:
                parsed.append("")
            if not parsed[-1]:
                raise validation_error(f"`{where}.sendblue_numbers[{index}]` is not an E.164 "
                                       "phone number")
        lines = tuple(parsed) or None
    return NewEndpoint(type_, url, secret or None, lines)


def _url_fields(new: list[NewEndpoint], entries: Any, where: str) -> list[tuple[str, str]]:
    """Each accepted entry's URL, and the field that named it."""
    return [(endpoint.url, f"{where}[{index}]{'.url' if isinstance(entry, dict) else ''}")
            for index, (endpoint, entry) in enumerate(zip(new, entries, strict=True))]


def _url(value: object, where: str) -> str:
    try:
        return check_http_url(value, where)
    except Exception as exc:
        raise validation_error(f"{exc} (got {value!r})") from None


def _shape(endpoints: list[Endpoint]) -> dict[str, list[Any]]:
    """Plain URL strings where an endpoint has nothing more, objects otherwise; no empty keys
    (the Sendblue CLI iterates every key as a list)."""
    shaped: dict[str, list[Any]] = {}
    for endpoint in endpoints:
        if endpoint.secret is None and endpoint.lines is None:
            entry: Any = endpoint.url
        else:
            entry = {"url": endpoint.url}
            if endpoint.secret is not None:
                entry["secret"] = endpoint.secret
            if endpoint.lines is not None:
                entry["sendblue_numbers"] = list(endpoint.lines)
        shaped.setdefault(endpoint.type, []).append(entry)
    return shaped

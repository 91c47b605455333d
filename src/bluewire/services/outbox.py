"""The outbox: every event is written with a delivery row for each webhook that must hear it,
in the transaction of the fact. No fact without its events; no delivery without
its committed fact."""

from __future__ import annotations

import time
from typing import Any

import msgspec

from ..domain.handles import new_event_id
from ..domain.webhooks import TYPE_FOR_EVENT
from ..store import deliveries as delivery_store
from ..store import webhooks as webhook_store
from ..store.accounts import Account, account_by_id
from ..store.database import now_ms
from ..store.notifications import DELIVERIES, EVENTS
from ..store.schema import events
from ..store.webhooks import Endpoint
from ..store.writer import Tx

_encode = msgspec.json.Encoder().encode

_REFRESH_SECONDS = 2.0


class AccountHooks:
    """An account's email, plan, endpoints and whether it has a global webhook secret, as the
    outbox needs them (a delivery names whose secret signs it, never the secret itself)."""

    __slots__ = ("account", "by_type", "has_global_secret", "loaded_at")

    def __init__(self, account: Account, global_secret: str | None,
                 endpoints: list[Endpoint]) -> None:
        self.account = account
        self.has_global_secret = global_secret is not None
        self.by_type: dict[str, list[Endpoint]] = {}
        for endpoint in endpoints:
            if endpoint.disabled_reason is None:
                self.by_type.setdefault(endpoint.type, []).append(endpoint)
        self.loaded_at = time.monotonic()


class WebhookDirectory:
    """A cache of AccountHooks, loaded in the writer's transaction when missing or stale (so
    endpoints configured by another process are heard within a couple of seconds) and dropped
    at once when this process changes them."""

    def __init__(self) -> None:
        self._hooks: dict[int, AccountHooks] = {}

    def hooks(self, tx: Tx, account_id: int) -> AccountHooks:
        hooks = self._hooks.get(account_id)
        if hooks is None or time.monotonic() - hooks.loaded_at > _REFRESH_SECONDS:
            account = account_by_id(tx, account_id)
            if account is None:
                raise LookupError(f"no account {account_id}")
            hooks = self._hooks[account_id] = AccountHooks(
                account, webhook_store.global_secret_of(tx, account_id),
                webhook_store.endpoints_of(tx, account_id))
        return hooks

    def forget(self, account_id: int) -> None:
        self._hooks.pop(account_id, None)

    def forget_all(self) -> None:
        self._hooks.clear()


class Outbox:
    def __init__(self, directory: WebhookDirectory) -> None:
        self.directory = directory

    def emit(self, tx: Tx, account_id: int | None, type_: str, occurred_at: int,
             data: dict[str, Any], *, message_handle: str | None = None,
             line: str | None = None, status_callback: str | None = None) -> str:
        """Write one event and its deliveries; returns the event's public id."""
        event_id = new_event_id()
        body = _encode(data).decode()
        tx.insert(events, {
            "public_id": event_id, "account_id": account_id, "type": type_,
            "occurred_at": occurred_at, "message_handle": message_handle, "data": body,
        })
        tx.notify(EVENTS)
        if account_id is None:
            return event_id
        hooks = self.directory.hooks(tx, account_id)
        targets: dict[str, tuple[int | None, str | None]] = {}
        if status_callback:
            targets[status_callback] = (
                None, delivery_store.BY_ACCOUNT if hooks.has_global_secret else None)
        endpoint_type = TYPE_FOR_EVENT.get(type_)
        for endpoint in hooks.by_type.get(endpoint_type, ()) if endpoint_type else ():
            if endpoint.hears_line(line) and endpoint.url not in targets:
                signed = endpoint.secret is not None or hooks.has_global_secret
                targets[endpoint.url] = (endpoint.id,
                                         delivery_store.BY_ENDPOINT if signed else None)
        if not targets:
            return event_id
        now = now_ms()
        for url, (endpoint_id, signer) in targets.items():
            delivery_store.add_delivery(
                tx, account_id=account_id, event_id=event_id, event_type=type_,
                endpoint_id=endpoint_id, url=url, signer=signer,
                message_handle=message_handle, payload=body, now=now)
        tx.notify(DELIVERIES)
        return event_id

    def account(self, tx: Tx, account_id: int) -> Account:
        return self.directory.hooks(tx, account_id).account

"""Accounts, API keys and lines: creating them, and authenticating requests."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection

from ..domain.errors import ApiError, ErrorCode, unauthorized
from ..domain.phones import InvalidNumber, parse_e164
from ..store import accounts as store
from ..store import notifications
from ..store.accounts import Account, AccountRow, ApiKey, Line
from ..store.database import Database, now_ms
from ..store.writer import Tx, Writer
from .failure_limits import FailureLimiter
from .key_revocation import RevocationCheck
from .secrets import hash_secret, new_key_id, new_secret, verify_secret

CONNECTORS = ("sandbox", "bluebubbles", "agent")
MAX_TRUSTED = 10_000  # (key id, address) pairs that succeeded, remembered for throttling


class AdminError(ValueError):
    """A management command that cannot be carried out, with a message saying why."""


@dataclass(frozen=True, slots=True)
class KeyPair:
    key_id: str
    secret: str


@dataclass(frozen=True, slots=True)
class Bootstrap:
    account: Account
    keys: KeyPair
    line: str


class AccountService:
    def __init__(self, database: Database, writer: Writer) -> None:
        self._database = database
        self._writer = writer

    def create_account(self, email: str, plan: str = "blue") -> Account:
        email = email.strip()
        if "@" not in email or len(email) > 320:
            raise AdminError(f"{email!r} is not an email address")

        def op(tx: Tx) -> Account:
            if store.account_by_email(tx, email) is not None:
                raise AdminError(f"an account {email} exists already")
            return store.insert_account(tx, email, plan, now_ms())

        return self._writer.run(op)

    def create_key(self, email: str, key_id: str | None = None,
                   secret: str | None = None) -> KeyPair:
        pair = KeyPair(key_id or new_key_id(), secret or new_secret())
        if not pair.key_id.strip() or not pair.secret.strip():
            raise AdminError("a key id and a secret cannot be empty")
        secret_hash = hash_secret(pair.secret)

        def op(tx: Tx) -> None:
            account = store.account_by_email(tx, email)
            if account is None:
                raise AdminError(f"no account {email}")
            if store.key_exists(tx, pair.key_id):
                raise AdminError(f"a key {pair.key_id} exists already")
            store.insert_api_key(tx, account.id, pair.key_id, secret_hash, now_ms())

        self._writer.run(op)
        return pair

    async def new_key(self, account: Account) -> KeyPair:
        """A new key pair of `account`, from the server's loop (the console's "create key"):
        the secret is in the answer only, the store keeps its hash."""
        pair = KeyPair(new_key_id(), new_secret())
        secret_hash = hash_secret(pair.secret)
        await self._writer.submit(lambda tx: store.insert_api_key(
            tx, account.id, pair.key_id, secret_hash, now_ms()))
        return pair

    async def keys_of(self, account: Account) -> list[ApiKey]:
        """The account's keys, revoked ones too; never their secrets."""
        return await self._database.read_async(
            lambda conn: store.api_keys_of(conn, account.id))

    async def revoke_key_of(self, account: Account, key_id: str) -> ApiKey | None:
        """Revoke `account`'s key `key_id`, from the server's loop; None if the account has no
        such key (another account's key is not found, never revoked)."""
        def op(tx: Tx) -> ApiKey | None:
            found = next(iter(store.api_keys_of(tx, account.id, key_id=key_id)), None)
            if found is None or found.revoked_at is not None:
                return found
            now = now_ms()
            store.revoke_api_key(tx, key_id, now)
            tx.notify(notifications.KEYS)
            return replace(found, revoked_at=now)

        return await self._writer.submit(op)

    def accounts(self) -> list[AccountRow]:
        return self._database.read(store.all_accounts)

    async def account(self, account_id: int) -> Account | None:
        """The account with this id (as the API's authentication finds it), or None."""
        return await self._database.read_async(
            lambda conn: store.account_by_id(conn, account_id))

    def keys(self, email: str | None = None) -> list[ApiKey]:
        """Every API key, or the account's; revoked ones too. Never their secrets."""
        def query(conn: Connection) -> list[ApiKey]:
            if email is None:
                return store.api_keys_of(conn)
            account = store.account_by_email(conn, email)
            if account is None:
                raise AdminError(f"no account {email}")
            return store.api_keys_of(conn, account.id)

        return self._database.read(query)

    def revoke_key(self, key_id: str) -> tuple[ApiKey, bool]:
        """Revoke the key in every process at once; the key, and whether it was revoked before.

        On PostgreSQL the commit notifies every server (services/key_revocation.py)."""
        def op(tx: Tx) -> tuple[ApiKey, bool]:
            found = next(iter(store.api_keys_of(tx, key_id=key_id)), None)
            if found is None:
                raise AdminError(f"no API key {key_id} (`bluewire keys list` shows them)")
            if found.revoked_at is not None:
                return found, True
            now = now_ms()
            store.revoke_api_key(tx, key_id, now)
            tx.notify(notifications.KEYS)
            return replace(found, revoked_at=now), False

        return self._writer.run(op)

    def add_line(self, number: str, email: str, connector: str = "sandbox", *,
                 shared: bool = False, rate_limit: float | None = None,
                 settings: dict[str, Any] | None = None) -> Line:
        if connector not in CONNECTORS:
            raise AdminError(f"unknown connector {connector!r}; choose one of {CONNECTORS}")
        try:
            number = parse_e164(number)
        except InvalidNumber as exc:
            raise AdminError(f"{number} {exc}") from None
        if rate_limit is not None and rate_limit <= 0:
            raise AdminError("a rate limit must be a positive number of sends a second")

        def op(tx: Tx) -> Line:
            account = store.account_by_email(tx, email)
            if account is None:
                raise AdminError(f"no account {email}")
            line = store.line_by_number(tx, number)
            if line is None:
                line = store.insert_line(tx, number, connector, shared, rate_limit, now_ms(),
                                         connector_settings(connector, settings or {}))
            elif not line.shared:
                owners = store.line_owner_ids(tx, line.id)
                if owners and account.id not in owners:
                    raise AdminError(f"line {number} belongs to another account")
            store.grant_line(tx, line.id, account.id)
            return line

        return self._writer.run(op)

    def bootstrap(self, email: str, sandbox_line: str, key_id: str | None,
                  secret: str | None) -> Bootstrap | None:
        """On first start: an account, its key pair, and the shared sandbox line."""
        if self._database.read(store.any_account):
            return None
        account = self.create_account(email)
        keys = self.create_key(email, key_id, secret)
        line = self.add_line(sandbox_line, email, "sandbox", shared=True)
        return Bootstrap(account, keys, line.number)


def connector_settings(connector: str, settings: dict[str, Any]) -> dict[str, Any]:
    """Check a new line's connector settings; a BlueBubbles line gets its webhook secret."""
    given = {key for key, value in settings.items() if value not in (None, "")}
    if connector != "bluebubbles":
        if given & {"url", "password"}:
            raise AdminError("--bluebubbles-url and --bluebubbles-password are for bluebubbles "
                             f"lines, not {connector}")
        return settings
    if not settings.get("url") or not settings.get("password"):
        raise AdminError("a bluebubbles line needs --bluebubbles-url (its BlueBubbles server, "
                         "e.g. http://mac.local:1234) and --bluebubbles-password (the server "
                         "password)")
    url = str(settings["url"]).rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise AdminError(f"--bluebubbles-url {url} must be an http:// or https:// URL")
    return {**settings, "url": url,
            "webhook_secret": settings.get("webhook_secret") or secrets.token_urlsafe(24)}


class Authenticator:
    """Checks key pairs. A verified pair is remembered in memory, so the hot path compares the
    secret in constant time instead of running scrypt on every request; scrypt runs in a worker
    thread, once for any number of concurrent requests with the same pair. (Nothing on the hot
    path releases the GIL, which would hand the core away in the middle of a request.)

    Failures are throttled before scrypt runs: past `failures_per_minute` from one client
    address, or against one key id, a new secret is answered 429 unchecked, so a flood of wrong
    secrets costs a hash lookup each. An address a key has succeeded from is exempt for that
    key, so others' failures do not lock its owner out."""

    def __init__(self, database: Database, ttl_seconds: float = 60.0,
                 failure_ttl_seconds: float = 5.0,
                 revocations: RevocationCheck | None = None,
                 failures_per_minute: int = 10) -> None:
        self._limits = FailureLimiter(limit=failures_per_minute, window_s=60.0)
        self._trusted: OrderedDict[tuple[str, str], None] = OrderedDict()  # (key id, address)
        self._database = database
        self._ttl = ttl_seconds
        self._failure_ttl = failure_ttl_seconds
        self._revocations = revocations
        self._pepper = secrets.token_bytes(32)
        self._verified: dict[str, tuple[bytes, Account, float]] = {}  # key id: secret, …
        self._refused: dict[tuple[str, bytes], float] = {}
        self._checking: dict[tuple[str, bytes], asyncio.Future[Account | None]] = {}
        self._forgotten = 0  # how many times `forget_all` ran

    def forget_all(self) -> None:
        """Verify every key again (a key was revoked somewhere)."""
        self._verified.clear()
        self._checking.clear()  # checks in flight may have read the key before it was revoked
        self._forgotten += 1

    async def authenticate(self, key_id: str | None, secret: str | None,
                           client: str | None = None) -> Account:
        """The account of the key pair; `client` is the caller's address, for throttling."""
        if not key_id or not secret:
            raise unauthorized(
                "Missing API credentials: send the sb-api-key-id and sb-api-secret-key headers"
            )
        given = secret.encode()
        now = time.monotonic()
        cached = self._verified.get(key_id)
        if cached is not None and now < cached[2] and hmac.compare_digest(cached[0], given):
            if self._revocations is not None and await self._revocations.revoked(key_id):
                self._verified.pop(key_id, None)
                raise _bad_credentials()
            return cached[1]
        attempt = (key_id, hmac.digest(self._pepper, given, hashlib.sha256))
        if self._refused.get(attempt, 0.0) > now:
            raise _bad_credentials()
        subjects = self._subjects(key_id, client)
        wait = self._limits.retry_after(*subjects)
        if wait:
            raise ApiError(429, f"Too many failed authentications from this address or for this "
                                f"key id: retry in {wait} s", error_code=ErrorCode.RATE_LIMIT,
                           error_key="AUTH_RATE_LIMITED", headers={"Retry-After": str(wait)})
        while True:
            forgotten = self._forgotten
            account = await asyncio.shield(self._check(attempt, key_id, secret))
            if self._forgotten == forgotten:
                break  # else a key was revoked while this one was read: read it again
        if account is None:
            self._refused[attempt] = time.monotonic() + self._failure_ttl
            if len(self._refused) > 10_000:
                self._refused.clear()
            self._limits.failed(*subjects)
            raise _bad_credentials()
        self._verified[key_id] = (given, account, time.monotonic() + self._ttl)
        if client is not None:
            self._trust(key_id, client)
        return account

    def _subjects(self, key_id: str, client: str | None) -> tuple[str, ...]:
        """The counters a failure counts on and a refusal reads. A (key id, address) pair that
        has succeeded has its own, so others' failures cannot lock the key's owner out while
        guesses from that pair are still throttled."""
        if client is not None and (key_id, client) in self._trusted:
            return ("pair:" + key_id + " " + client,)
        key = "key:" + key_id
        return (key, "address:" + client) if client is not None else (key,)

    def _trust(self, key_id: str, client: str) -> None:
        self._trusted[(key_id, client)] = None
        self._trusted.move_to_end((key_id, client))
        while len(self._trusted) > MAX_TRUSTED:
            self._trusted.popitem(last=False)

    def _check(self, attempt: tuple[str, bytes], key_id: str,
               secret: str) -> asyncio.Future[Account | None]:
        """The check of this key pair in flight, or a new one."""
        check = self._checking.get(attempt)
        if check is None:
            check = asyncio.ensure_future(asyncio.to_thread(self._verify, key_id, secret))
            self._checking[attempt] = check
            check.add_done_callback(lambda done: self._checking.pop(attempt, None)
                                    if self._checking.get(attempt) is done else None)
        return check

    def close(self) -> None:
        if self._revocations is not None:
            self._revocations.close()

    def _verify(self, key_id: str, secret: str) -> Account | None:
        found = self._database.read(lambda conn: _load_key(conn, key_id))
        if found is None:
            verify_secret(secret, _DUMMY_HASH)  # same cost whether or not the key exists
            return None
        secret_hash, account = found
        return account if verify_secret(secret, secret_hash) else None


def _load_key(conn: Connection, key_id: str) -> tuple[str, Account] | None:
    key = store.key_by_id(conn, key_id)
    if key is None:
        return None
    account = store.account_by_id(conn, key[0])
    return (key[1], account) if account else None


def _bad_credentials() -> ApiError:
    return unauthorized("Invalid API credentials: check sb-api-key-id and sb-api-secret-key")


_DUMMY_HASH = hash_secret(secrets.token_urlsafe(16))

"""Webhook signing secrets, encrypted at rest.

Why: a signing secret must be given back to sign every webhook, so it cannot be hashed like an
API secret; stored in clear, anyone who reads the database (a backup, a copy handed over for
debugging, a read-only replica) could forge webhooks to every receiver. So each secret is sealed
with AES-256-GCM under a key that lives outside the database: `BLUEWIRE_SECRET_KEY`, or a key
file generated on first start next to the SQLite database (or in the working folder). Several
processes on one PostgreSQL database must share the key, so they must be given the same
`BLUEWIRE_SECRET_KEY`.

A sealed value is `enc:v1:` + base64url(nonce ‖ ciphertext ‖ tag). A value without the prefix is
a secret written in clear by an earlier version: it keeps working (`open` gives it back as is)
until the startup pass or migration 0010 seals it.

Rotating the key: start every process with the new `BLUEWIRE_SECRET_KEY` and the old one in
`BLUEWIRE_SECRET_KEY_PREVIOUS`. A box opens what any of its keys sealed and seals with the new
one; the startup pass (store/sealed_secrets.py) seals again under the new key whatever an old
one sealed, after which the old key can be dropped.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import logging
import os
import secrets
from collections.abc import Sequence
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.engine import make_url

from .database import data_dir

log = logging.getLogger(__name__)

PREFIX = "enc:v1:"
KEY_FILE = "bluewire-secret.key"
MIN_KEY_CHARS = 32
_NONCE_BYTES = 12
_CONTEXT = b"bluewire webhook secrets v1"  # bound to every ciphertext (associated data)


class SecretKeyError(ValueError):
    """The configured key is unusable, or does not open the secrets the database holds."""


def is_sealed(stored: str | None) -> bool:
    return stored is not None and stored.startswith(PREFIX)


def hint(secret: str) -> str:
    """What may be shown of a secret once set: its last four characters (as Stripe and Svix
    show), or nothing of a secret too short to spare four."""
    return "…" + secret[-4:] if len(secret) >= 12 else "…"


def _aead_of(key_material: str, setting: str) -> AESGCM:
    if len(key_material) < MIN_KEY_CHARS:
        raise SecretKeyError(
            f"{setting} must be at least {MIN_KEY_CHARS} characters (e.g. the output of "
            "`openssl rand -base64 32`)")
    # Any long random string is a key: SHA-256 turns it into the 256-bit AES key.
    return AESGCM(hashlib.sha256(_CONTEXT + key_material.encode()).digest())


class SecretBox:
    """Seals with its key and opens with it or any `previous` one; opened values are cached by
    their ciphertext (a changed secret is a new ciphertext, so the cache never needs
    invalidating)."""

    def __init__(self, key_material: str, previous: Sequence[str] = ()) -> None:
        self._aead = _aead_of(key_material, "BLUEWIRE_SECRET_KEY")
        self._previous = [_aead_of(key, "each of BLUEWIRE_SECRET_KEY_PREVIOUS")
                          for key in previous]
        self._opened: dict[str, str] = {}

    @property
    def rotating(self) -> bool:
        """Whether old keys were given: what they sealed is to be sealed again."""
        return bool(self._previous)

    def seal(self, secret: str) -> str:
        nonce = secrets.token_bytes(_NONCE_BYTES)
        sealed = nonce + self._aead.encrypt(nonce, secret.encode(), _CONTEXT)
        return PREFIX + base64.urlsafe_b64encode(sealed).decode()

    def open(self, stored: str) -> str:
        """The secret a stored value holds (a value stored in clear is returned as is)."""
        if not stored.startswith(PREFIX):
            return stored
        opened = self._opened.get(stored)
        if opened is None:
            for aead in (self._aead, *self._previous):
                opened = _opened_with(aead, stored)
                if opened is not None:
                    break
            else:
                raise SecretKeyError(
                    "a stored secret does not open with this BLUEWIRE_SECRET_KEY (every process "
                    "on one database needs the same key; to change it, give the old one in "
                    "BLUEWIRE_SECRET_KEY_PREVIOUS until a start has sealed everything again)")
            if len(self._opened) >= 4096:
                self._opened.clear()
            self._opened[stored] = opened
        return opened

    def resealed(self, stored: str) -> str | None:
        """`stored` sealed under this box's own key, if it is not already (it was stored in
        clear, or sealed by a previous key); None when it is."""
        if stored.startswith(PREFIX) and _opened_with(self._aead, stored) is not None:
            return None
        return self.seal(self.open(stored))

    def open_optional(self, stored: str | None) -> str | None:
        return None if stored is None else self.open(stored)


def _opened_with(aead: AESGCM, stored: str) -> str | None:
    try:
        raw = base64.urlsafe_b64decode(stored.removeprefix(PREFIX))
        return aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _CONTEXT).decode()
    except (InvalidTag, ValueError):
        return None


def key_file_for(database_url: str) -> Path:
    """Where the generated key lives: next to a SQLite database, else in the working folder."""
    return data_dir(database_url) / KEY_FILE


def load_or_create_key(path: Path) -> str:
    """The key in `path`, made first if there is none: 0600 from the start, and atomically (a
    random key is written whole to a private file, then linked into place; of processes
    starting together, the first link wins and every process reads that key)."""
    with contextlib.suppress(FileNotFoundError):
        return _read_key(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_urlsafe(32) + "\n")
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(partial, path)
            log.warning("generated the webhook secret key %s: back it up with the database; "
                        "several processes on one PostgreSQL database need the same "
                        "BLUEWIRE_SECRET_KEY", path)
        except FileExistsError:
            pass  # another process made it first: use theirs
    finally:
        partial.unlink(missing_ok=True)
    return _read_key(path)


def _read_key(path: Path) -> str:
    key = path.read_text().strip()
    if not key:
        raise SecretKeyError(f"the key file {path} is empty")
    return key


def box_for(secret_key: str | None, database_url: str,
            previous: Sequence[str] = ()) -> SecretBox:
    """The box of a process: BLUEWIRE_SECRET_KEY, else the key file (made when missing), with
    the old keys being rotated away from; an in-memory SQLite database gets a key of its own
    life."""
    if secret_key:
        return SecretBox(secret_key, previous)
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        return SecretBox(secrets.token_urlsafe(32), previous)
    return SecretBox(load_or_create_key(key_file_for(database_url)), previous)

"""Webhook secrets at rest: the key (from BLUEWIRE_SECRET_KEY, or a 0600 key file made once and
reused), sealing and opening, the migration that seals secrets stored in clear and points old
deliveries at their signer, and a process with another key refused at start."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import insert, select, text

from bluewire.app import Gateway
from bluewire.config import Settings
from bluewire.store import webhooks as webhook_store
from bluewire.store.database import MIGRATIONS, Database
from bluewire.store.schema import accounts, deliveries, messages, totp_secrets, webhook_endpoints
from bluewire.store.secret_box import (
    KEY_FILE,
    PREFIX,
    SecretBox,
    SecretKeyError,
    box_for,
    hint,
    load_or_create_key,
)

from ..databases import Engine

KEY = "k" * 40


def test_a_sealed_secret_opens_with_its_key_only() -> None:
    box = SecretBox(KEY)
    sealed = box.seal("whsec_abc/123")
    assert sealed.startswith(PREFIX) and "abc" not in sealed
    assert box.seal("whsec_abc/123") != sealed  # a fresh nonce each time
    assert box.open(sealed) == "whsec_abc/123"
    assert box.open("stored in clear by an earlier version") == (
        "stored in clear by an earlier version")
    with pytest.raises(SecretKeyError):
        SecretBox("another key, long enough to be one....").open(sealed)
    with pytest.raises(SecretKeyError):
        SecretBox("short")


def test_a_hint_is_the_last_four_characters_of_a_long_enough_secret() -> None:
    assert hint("0123456789abcdef") == "…cdef"
    assert hint("short") == "…"


def test_without_a_configured_key_one_is_made_0600_next_to_the_database_and_reused(
        tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'data' / 'bluewire.db'}"
    first = box_for(None, url)
    path = tmp_path / "data" / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert box_for(None, url).open(first.seal("s")) == "s"  # the same key, read back
    assert [p.name for p in path.parent.iterdir()] == [KEY_FILE]  # no partial file left
    # A configured key is used as is, and no file is made for it.
    other = tmp_path / "other"
    box_for(KEY, f"sqlite:///{other / 'bluewire.db'}")
    assert not other.exists()


def test_processes_starting_together_share_one_key(tmp_path: Path) -> None:
    path = tmp_path / KEY_FILE
    keys: list[str] = []
    threads = [threading.Thread(target=lambda: keys.append(load_or_create_key(path)))
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(keys) == 8 and len(set(keys)) == 1
    assert path.read_text().strip() == keys[0]


def _alembic(database: Database, revision: str, *, down: bool = False) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


def test_the_migration_seals_old_secrets_and_old_deliveries_name_their_signer(
        tmp_path: Path, engine: Engine) -> None:
    url = engine.create(tmp_path)
    database = Database(url)
    database.migrate()
    _alembic(database, "0009", down=True)  # the schema an earlier version wrote
    with database.engine.begin() as conn:
        conn.execute(insert(accounts), [{"id": 1, "email": "a@x.com", "created_at": 0,
                                         "webhook_secret": "old global secret"}])
        conn.execute(insert(webhook_endpoints).values(
            id=1, account_id=1, type="outbound", url="https://hooks.example/e",
            secret="old endpoint secret", position=0, created_at=0))
        conn.execute(insert(messages).values(
            handle="m1", account_id=1, is_outbound=True, line="+14155550199",
            number="+14155550100", status="SENT", created_at=0, updated_at=0,
            status_callback="https://hooks.example/cb"))
        rows = [("https://hooks.example/e", 1, "old endpoint secret"),
                ("https://hooks.example/cb", None, "old global secret"),
                ("https://hooks.example/removed", None, "a removed endpoint's secret"),
                ("https://hooks.example/unsigned", None, None)]
        for index, (hook, endpoint_id, secret) in enumerate(rows):
            conn.execute(text(  # the table as 0009 left it: with a copy of the secret
                "INSERT INTO deliveries (id, account_id, event_id, event_type, endpoint_id, "
                "url, secret, message_handle, payload, state, attempts, next_attempt_at, "
                "created_at) VALUES (:id, 1, 'evt', 'message.updated', :endpoint, :url, "
                ":secret, 'm1', '{}', 'pending', 0, 0, 0)"),
                {"id": index + 1, "endpoint": endpoint_id, "url": hook, "secret": secret})
    database.dispose()

    gateway = Gateway(Settings.from_env(database_url=url, secret_key=KEY))
    try:
        gateway.prepare()
        with gateway.database.engine.connect() as conn:
            stored_global = conn.execute(select(accounts.c.webhook_secret)).scalar_one()
            stored_endpoint = conn.execute(select(webhook_endpoints.c.secret)).scalar_one()
            signers = conn.execute(select(deliveries.c.url, deliveries.c.signer,
                                          deliveries.c.secret)
                                   .order_by(deliveries.c.id)).all()
    finally:
        gateway.database.dispose()
    box = SecretBox(KEY)
    assert stored_global.startswith(PREFIX) and box.open(stored_global) == "old global secret"
    assert stored_endpoint.startswith(PREFIX)
    assert box.open(stored_endpoint) == "old endpoint secret"
    assert [(row.signer, row.secret) for row in signers] == [
        ("endpoint", None), ("account", None), (None, None), (None, None)]

    # Another key cannot open what this one sealed: such a process does not start.
    other = Gateway(Settings.from_env(database_url=url, secret_key="x" * 40))
    try:
        with pytest.raises(SystemExit, match="BLUEWIRE_SECRET_KEY"):
            other.prepare()
    finally:
        other.database.dispose()


def test_secrets_left_in_clear_are_sealed_at_start(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'b.db'}"
    gateway = Gateway(Settings.from_env(database_url=url))
    try:
        gateway.prepare()
        with gateway.database.engine.begin() as conn:  # as a migration without the key left it
            conn.execute(insert(accounts), [{"id": 1, "email": "a@x.com", "created_at": 0,
                                             "webhook_secret": "in clear"}])
        gateway.prepare()
        with gateway.database.engine.connect() as conn:
            signing = webhook_store.account_signing_of(conn, 1)
        assert signing.secret is not None and signing.secret.startswith(PREFIX)
        assert gateway.secret_box.open(signing.secret) == "in clear"
    finally:
        gateway.database.dispose()
    assert stat.S_IMODE((tmp_path / KEY_FILE).stat().st_mode) == 0o600


NEW_KEY = "n" * 40


def test_a_previous_key_still_opens_what_it_sealed_and_new_secrets_take_the_new_key() -> None:
    old = SecretBox(KEY).seal("whsec_old")
    box = SecretBox(NEW_KEY, previous=(KEY,))
    assert box.open(old) == "whsec_old"
    fresh = box.seal("whsec_new")
    assert SecretBox(NEW_KEY).open(fresh) == "whsec_new"
    assert box.resealed(old) is not None and SecretBox(NEW_KEY).open(box.resealed(old)) == \
        "whsec_old"
    assert box.resealed(fresh) is None  # already under the new key
    with pytest.raises(SecretKeyError, match="BLUEWIRE_SECRET_KEY_PREVIOUS"):
        SecretBox(NEW_KEY, previous=("short",))


def test_rotating_the_key_reseals_every_stored_secret_at_start(
        tmp_path: Path, engine: Engine) -> None:
    url = engine.create(tmp_path)
    first = Gateway(Settings.from_env(database_url=url, secret_key=KEY))
    try:
        first.prepare()
        sealed = first.secret_box.seal("global secret")
        with first.database.engine.begin() as conn:
            conn.execute(insert(accounts), [{"id": 1, "email": "a@x.com", "created_at": 0,
                                             "webhook_secret": sealed}])
            conn.execute(insert(webhook_endpoints).values(
                id=1, account_id=1, type="outbound", url="https://hooks.example/e",
                secret=first.secret_box.seal("endpoint secret"), position=0, created_at=0))
            conn.execute(insert(totp_secrets).values(
                account_id=1, public_id="totp_1", label="me@example.com", algorithm="SHA1",
                digits=6, period=30, secret=first.secret_box.seal("JBSWY3DPEHPK3PXP"),
                created_at=0))
    finally:
        first.database.dispose()

    # The new key alone cannot open them: refused, saying how to rotate.
    alone = Gateway(Settings.from_env(database_url=url, secret_key=NEW_KEY))
    try:
        with pytest.raises(SystemExit, match="BLUEWIRE_SECRET_KEY_PREVIOUS"):
            alone.prepare()
    finally:
        alone.database.dispose()

    rotating = Gateway(Settings.from_env(database_url=url, secret_key=NEW_KEY,
                                         secret_key_previous=(KEY,)))
    try:
        rotating.prepare()
    finally:
        rotating.database.dispose()

    after = Gateway(Settings.from_env(database_url=url, secret_key=NEW_KEY))  # old key dropped
    try:
        after.prepare()
        with after.database.engine.connect() as conn:
            stored = [conn.execute(select(accounts.c.webhook_secret)).scalar_one(),
                      conn.execute(select(webhook_endpoints.c.secret)).scalar_one(),
                      conn.execute(select(totp_secrets.c.secret)).scalar_one()]
    finally:
        after.database.dispose()
    assert [SecretBox(NEW_KEY).open(value) for value in stored] == [
        "global secret", "endpoint secret", "JBSWY3DPEHPK3PXP"]

"""Readiness (/readyz): the worker-stall rule on a fake clock, and the store checks over a real
store on each engine."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text

from bluewire.services.health import (
    Check,
    Readiness,
    migration_heads,
    migrations_check,
    report,
    worker_check,
)
from bluewire.store.database import Database

from ..databases import Engine

STALL_MS = 30_000


@dataclass
class FakeWorker:
    running_since: float | None = None
    last_round_at: float | None = None


class FakeClock:
    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_worker_that_is_not_running_is_not_ready() -> None:
    check = worker_check("dispatcher", FakeWorker(), now=10.0, stall_s=30)
    assert check == Check("dispatcher", False, "not running")


def test_a_worker_just_started_has_one_threshold_for_its_first_round() -> None:
    worker = FakeWorker(running_since=100.0)
    assert worker_check("delivery", worker, now=129.0, stall_s=30).ok
    late = worker_check("delivery", worker, now=131.0, stall_s=30)
    assert not late.ok and "no round completed for 31.0 s" in late.detail


def test_a_worker_is_stalled_once_its_last_round_is_older_than_the_threshold() -> None:
    worker = FakeWorker(running_since=0.0, last_round_at=100.0)
    assert worker_check("delivery", worker, now=130.0, stall_s=30).ok
    assert not worker_check("delivery", worker, now=130.5, stall_s=30).ok
    worker.last_round_at = 130.4  # it went round again
    assert worker_check("delivery", worker, now=130.5, stall_s=30).ok


def test_the_migrations_check_compares_the_store_with_the_scripts_head() -> None:
    heads = migration_heads()
    assert heads  # the scripts have a head
    assert migrations_check(heads, heads).ok
    behind = migrations_check(frozenset({"0001"}), frozenset({"0005"}))
    assert not behind.ok and "0001" in behind.detail and "0005" in behind.detail
    assert "none" in migrations_check(frozenset(), frozenset({"0005"})).detail


def test_the_report_is_200_only_when_every_check_passed() -> None:
    good = [Check("database", True, "ok"), Check("delivery", True, "ok")]
    assert report(good) == (200, {"status": "ready", "checks": [
        {"name": "database", "ok": True, "detail": "ok"},
        {"name": "delivery", "ok": True, "detail": "ok"}]})
    status, body = report([*good, Check("dispatcher", False, "not running")])
    assert status == 503 and body["status"] == "not ready"
    assert body["checks"][2] == {"name": "dispatcher", "ok": False, "detail": "not running"}


@pytest.fixture
def database(tmp_path: Path, engine: Engine) -> Iterator[Database]:
    database = Database(engine.create(tmp_path))
    database.migrate()
    yield database
    database.dispose()


async def test_a_migrated_store_and_live_workers_are_ready(database: Database) -> None:
    clock = FakeClock()
    workers = {"dispatcher": FakeWorker(running_since=990.0, last_round_at=999.5),
               "delivery": FakeWorker(running_since=990.0, last_round_at=999.0)}
    readiness = Readiness(database, workers, stall_ms=STALL_MS, clock=clock)
    checks = await readiness.check()
    assert [check.name for check in checks] == ["database", "migrations", "dispatcher",
                                                "delivery"]
    assert all(check.ok for check in checks), checks

    clock.now += 31  # nothing went round for 31 s: both workers are stalled
    status, body = report(await readiness.check())
    assert status == 503
    assert [check["name"] for check in body["checks"] if not check["ok"]] == [
        "dispatcher", "delivery"]


async def test_a_store_behind_the_code_is_not_ready(database: Database) -> None:
    with database.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0004'"))
    checks = {check.name: check for check in
              await Readiness(database, {}, stall_ms=STALL_MS).check()}
    assert checks["database"].ok
    assert not checks["migrations"].ok and "0004" in checks["migrations"].detail


async def test_an_unreachable_store_is_not_ready(tmp_path: Path) -> None:
    (tmp_path / "a-directory.db").mkdir()  # SQLite cannot open a directory
    database = Database(f"sqlite:///{tmp_path / 'a-directory.db'}")
    try:
        checks = await Readiness(database, {}, stall_ms=STALL_MS,
                                 heads=frozenset({"0005"})).check()
    finally:
        database.dispose()
    assert [(check.name, check.ok) for check in checks] == [("database", False),
                                                           ("migrations", False)]
    assert checks[0].detail.startswith("OperationalError")


@dataclass
class FakeStorage:
    disk_full: bool = False


async def test_a_store_whose_disk_is_full_is_not_ready(database: Database) -> None:
    storage = FakeStorage(disk_full=True)
    readiness = Readiness(database, {}, stall_ms=STALL_MS, storage=storage)
    checks = {check.name: check for check in await readiness.check()}
    assert not checks["database"].ok and "disk is full" in checks["database"].detail
    assert checks["migrations"].ok
    storage.disk_full = False  # space came back and a write was stored
    assert all(check.ok for check in await readiness.check())

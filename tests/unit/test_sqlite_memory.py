"""How much memory a SQLite store may hold in the server: its page cache and its memory map,
set by BLUEWIRE_SQLITE_CACHE_MIB and BLUEWIRE_SQLITE_MMAP_MIB."""

from __future__ import annotations

from pathlib import Path

import pytest

from bluewire.config import Settings
from bluewire.store.database import Database


def _pragmas(database: Database) -> tuple[int, int]:
    with database.engine.connect() as connection:
        cache = connection.exec_driver_sql("PRAGMA cache_size").scalar_one()
        mmap = connection.exec_driver_sql("PRAGMA mmap_size").scalar_one()
    return cache, mmap


def _database(tmp_path: Path, settings: Settings) -> Database:
    return Database(f"sqlite:///{tmp_path / 'memory.db'}",
                    sqlite_cache_mib=settings.sqlite_cache_mib,
                    sqlite_mmap_mib=settings.sqlite_mmap_mib)


def test_by_default_the_file_is_not_mapped_and_each_connection_caches_16_mib(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BLUEWIRE_SQLITE_CACHE_MIB", raising=False)
    monkeypatch.delenv("BLUEWIRE_SQLITE_MMAP_MIB", raising=False)
    database = _database(tmp_path, Settings.from_env())
    try:
        assert _pragmas(database) == (-16 * 1024, 0)  # cache_size in KiB when negative
    finally:
        database.dispose()


def test_the_environment_sets_both(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BLUEWIRE_SQLITE_CACHE_MIB", "64")
    monkeypatch.setenv("BLUEWIRE_SQLITE_MMAP_MIB", "256")
    database = _database(tmp_path, Settings.from_env())
    try:
        assert _pragmas(database) == (-64 * 1024, 256 * 1024 * 1024)
    finally:
        database.dispose()


def test_a_negative_size_is_refused_by_name(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'memory.db'}"
    for setting, size in (("mmap", -1), ("cache", -2)):
        with pytest.raises(ValueError) as refused:
            Database(url, **{f"sqlite_{setting}_mib": size})
        assert str(refused.value) == \
            f"BLUEWIRE_SQLITE_{setting.upper()}_MIB must be 0 or more, not {size}"

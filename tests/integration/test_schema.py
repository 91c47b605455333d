"""The migrations and the tables the code is written against describe one schema, on each
engine: a column added to one and not the other fails here, not in production."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bluewire.store.database import Database
from bluewire.store.schema import metadata

from ..databases import Engine


def test_the_migrated_schema_is_the_one_the_code_uses(tmp_path: Path, engine: Engine) -> None:
    database = Database(engine.create(tmp_path))
    database.migrate()
    try:
        with database.engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    finally:
        database.dispose()

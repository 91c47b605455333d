"""What the management commands share: the store they open (said on stderr, and never a new
empty SQLite file by accident), and their error exit.

Everything heavy is imported inside the functions: the commands that only talk HTTP import this
module too, and must start fast.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:
    from ..app import Gateway
    from ..config import Settings
    from ..store.database import Database
    from ..store.writer import Writer

T = TypeVar("T")
err = Console(stderr=True, highlight=False)

NewDatabase = Annotated[bool, typer.Option(
    "--new-database",
    help="Create the SQLite database if it does not exist yet (by default a missing file is "
         "an error: the command probably runs in another folder than the server).")]


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print `message` as an error; the exception to raise."""
    err.print(f"[red]error:[/red] {escape(message)}", soft_wrap=True)
    return typer.Exit(code)


def open_store(*, new_database: bool = False) -> tuple[Database, Writer]:
    """The configured store, migrated, and a writer outside any event loop."""
    from ..store.database import Database
    from ..store.writer import Writer

    settings = _settings()
    _say_which(settings, new_database)
    try:
        database = Database(settings.database_url,
                            sqlite_synchronous=settings.sqlite_synchronous,
                            sqlite_cache_mib=settings.sqlite_cache_mib,
                            sqlite_mmap_mib=settings.sqlite_mmap_mib)
    except ValueError as exc:
        raise fail(str(exc)) from None
    _migrate(database.migrate)
    return database, Writer(database)


def open_gateway(*, new_database: bool = False) -> Gateway:
    """The gateway on the configured store, migrated (its services, not its server)."""
    from ..app import Gateway

    settings = _settings()
    _say_which(settings, new_database)
    try:
        gateway = Gateway(settings)
    except ValueError as exc:
        raise fail(str(exc)) from None
    _migrate(gateway.prepare)
    return gateway


def run_admin(action: Callable[[], T]) -> T:
    """`action()`; an AdminError is printed and exits with status 2."""
    from ..services.accounts import AdminError

    try:
        return action()
    except AdminError as exc:
        raise fail(str(exc)) from None


def _settings() -> Settings:
    from ..config import Settings

    return Settings.from_env()


def _say_which(settings: Settings, new_database: bool) -> None:
    """Say on stderr which database the command uses (stdout may be JSON); refuse a SQLite
    file that does not exist unless `new_database`."""
    from ..store.database import database_url

    try:
        url = database_url(settings.database_url)
    except Exception as exc:  # SQLAlchemy's ArgumentError, or ours
        raise fail(f"BLUEWIRE_DATABASE_URL={settings.database_url!r} is not a database URL "
                   f"({exc})") from None
    if url.get_backend_name() != "sqlite":
        err.print(f"database: {escape(url.render_as_string(hide_password=True))}", soft_wrap=True)
        return
    if url.database in (None, "", ":memory:"):
        return  # Database refuses it with its own message
    path = Path(url.database).expanduser().resolve()
    err.print(f"database: {escape(str(path))} (SQLite)", soft_wrap=True)
    if not path.exists() and not new_database:
        raise fail(
            f"there is no database at {path}. The default, sqlite:///bluewire.db, is a file "
            "in the folder the command runs from: run it where `bluewire serve` runs, or set "
            "BLUEWIRE_DATABASE_URL (e.g. sqlite:////srv/bluewire/bluewire.db). To start a new "
            "database here, run `bluewire serve` or `bluewire accounts create EMAIL "
            "--new-database`.")


def _migrate(migrate: Callable[[], None]) -> None:
    from ..store.database import is_unavailable

    try:
        migrate()
    except Exception as exc:
        if not is_unavailable(exc):
            raise
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise fail(f"cannot reach the database: {first_line}", code=1) from None

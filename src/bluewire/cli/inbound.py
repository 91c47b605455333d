"""`bluewire inbound`: what arrived for the operator's eyes (reads the store directly)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ..config import Settings
from ..domain.payloads import iso
from ..store.database import Database
from ..store.messages import unrouted_inbound

console = Console()


def inbound_command(app: typer.Typer) -> None:
    @app.command()
    def inbound(
        unrouted: Annotated[bool, typer.Option(
            "--unrouted", help="Messages from strangers: senders no account of the line knows.",
        )] = False,
        limit: Annotated[int, typer.Option(help="How many of the latest to list.")] = 20,
    ) -> None:
        """Inbound messages kept for the operator. Only --unrouted is listed here; routed ones
        belong to their accounts (GET /api/v2/messages)."""
        if not unrouted:
            console.print("Routed inbound messages belong to their accounts: list them with "
                          "`bluewire messages` or GET /api/v2/messages. Use --unrouted for the "
                          "ones that reached no account.")
            raise typer.Exit(0)
        settings = Settings.from_env()
        database = Database(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
        database.migrate()
        total, latest = database.read(lambda conn: unrouted_inbound(conn, limit))
        table = Table("received", "line", "from", "service", "content", "handle")
        for message in latest:
            table.add_row(iso(message.created_at) or "", message.line, message.number,
                          message.service.value if message.service else "",
                          (message.content or message.media_url or "")[:60], message.handle)
        console.print(table)
        console.print(f"{total} unrouted inbound message{'s' if total != 1 else ''} "
                      "(from senders that are no account's contact)")

"""`bluewire inbound`: what arrived for the operator's eyes (reads the store directly)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from .admin import open_store
from .output import Json, console, key, ms_iso, print_json, print_table, short, text


def inbound_command(app: typer.Typer) -> None:
    @app.command()
    def inbound(
        unrouted: Annotated[bool, typer.Option(
            "--unrouted", help="Messages from strangers: senders no account of the line knows.",
        )] = False,
        limit: Annotated[int, typer.Option(help="How many of the latest to list.")] = 20,
        as_json: Json = False,
    ) -> None:
        """Inbound messages kept for the operator. Only --unrouted is listed here; routed ones
        belong to their accounts (GET /api/v2/messages)."""
        if not unrouted:
            console().print("Routed inbound messages belong to their accounts: list them with "
                            "`bluewire messages` or GET /api/v2/messages. Use --unrouted for "
                            "the ones that reached no account.")
            raise typer.Exit(0)
        from ..store.messages import unrouted_inbound

        database, _ = open_store()
        total, latest = database.read(lambda conn: unrouted_inbound(conn, limit))
        if as_json:
            print_json({"total": total, "data": [
                {"message_handle": m.handle, "received_at": ms_iso(m.created_at),
                 "line": m.line, "number": m.number,
                 "service": m.service.value if m.service else None,
                 "content": m.content, "media_url": m.media_url} for m in latest]})
            return
        table = Table(key("received"), key("line"), key("from"), key("service"), text("content"),
                      key("handle"))
        for message in latest:
            table.add_row(ms_iso(message.created_at) or "", message.line, message.number,
                          message.service.value if message.service else "",
                          escape(short(message.content or message.media_url)), message.handle)
        out = console()
        print_table(out, table)
        out.print(f"{total} unrouted inbound message{'s' if total != 1 else ''} "
                  "(from senders that are no account's contact)")

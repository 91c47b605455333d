"""Commands that use a running server's HTTP API, with the same key headers as any client."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .flags import DEFAULT_URL, ApiKeyId, ApiSecretKey, Campaign, Server, Tags, labels
from .follow_ups import describe, parse_specs, scheduled_with
from .http import call
from .output import Json, console, key, print_json, print_table, short, text

err = Console(stderr=True, highlight=False)


def _media_url(server: str, key_id: str, secret: str, media: str) -> str:
    """`media` itself if it is a URL or media object id; a local file is uploaded first."""
    if media.startswith(("http://", "https://", "bluewire-media://", "mo_")) \
            and not Path(media).exists():
        return media
    path = Path(media)
    if not path.is_file():
        err.print(f"[red]error:[/red] {escape(media)} is neither a file nor an http(s) URL")
        raise typer.Exit(2)
    answer = call(server, key_id, secret, "POST", "/api/upload-file", upload=path)
    return str(answer["media_url"])


def status_style(status: str | None) -> str:
    return {"READ": "green", "DELIVERED": "green", "SENT": "cyan", "QUEUED": "yellow",
            "ERROR": "red", "RECEIVED": "magenta"}.get(status or "", "white")


def client_app(app: typer.Typer) -> None:
    @app.command()
    def send(number: str, text: Annotated[str | None, typer.Argument()] = None,
             from_line: Annotated[str | None, typer.Option(
                 "--from", help="The line to send from (default: the account's only line).",
             )] = None,
             media: Annotated[str | None, typer.Option(
                 "--media", help="A file to attach (uploaded first) or a media URL.",
             )] = None,
             campaign: Campaign = None,
             tag: Tags = None,
             follow_up: Annotated[list[str] | None, typer.Option(
                 "--follow-up", metavar="SPEC",
                 help="'<condition> after <duration>: <text>', e.g. 'not_read after 2h: Did "
                      "you see this?'; the text `notify` alone notifies instead of sending "
                      "(repeatable).",
             )] = None,
             as_json: Json = False,
             server: Server = DEFAULT_URL, api_key_id: ApiKeyId = "",
             api_secret_key: ApiSecretKey = "") -> None:
        """Send a message (text, a picture or file, or both), optionally with follow-ups."""
        if not text and not media:
            err.print("[red]error:[/red] give a text, --media, or both")
            raise typer.Exit(2)
        follow_ups = parse_specs(follow_up)  # all checked before anything is sent
        body: dict[str, Any] = {"number": number, **labels(campaign, tag)}
        if text:
            body["content"] = text
        if media:
            body["media_url"] = _media_url(server, api_key_id, api_secret_key, media)
        if from_line:
            body["from_number"] = from_line
        if follow_ups:  # scheduled with the message, in one transaction, or nothing is sent
            body["follow_ups"] = follow_ups
        result = call(server, api_key_id, api_secret_key, "POST", "/api/send-message", payload=body)
        made = scheduled_with(server, api_key_id, api_secret_key,
                              str(result.get("message_handle")), follow_ups) \
            if follow_ups else []
        if as_json:
            print_json({**result, "follow_ups": made} if follow_ups else result)
            return
        status = result.get("status")
        out = console()
        out.print(f"[{status_style(status)}]{status}[/]  {result.get('message_handle')}"
                  f"  {result.get('from_number')} → {result.get('number')}")
        for item in made:
            out.print(f"  follow-up {item.get('id')}: {escape(describe(item))}")

    @app.command()
    def status(handle: str, as_json: Json = False, server: Server = DEFAULT_URL,
               api_key_id: ApiKeyId = "", api_secret_key: ApiSecretKey = "") -> None:
        """Show a message's status."""
        result = call(server, api_key_id, api_secret_key, "GET", "/api/status",
                      params={"handle": handle})
        if as_json:
            print_json(result)
            return
        table = Table(key("field"), text("value"), show_header=False, box=None)
        for field in ("message_handle", "status", "service", "from_number", "number",
                      "content", "date_created", "date_updated", "error_code",
                      "error_message"):
            value = result.get(field)
            if value is None:
                continue
            if field == "status":
                table.add_row(field, f"[{status_style(value)}]{escape(str(value))}[/]")
            else:
                table.add_row(field, escape(str(value)))
        print_table(console(), table)

    @app.command()
    def messages(number: Annotated[str | None, typer.Option(
                     help="Only the conversation with this number.")] = None,
                 limit: Annotated[int, typer.Option(help="How many, newest first.")] = 20,
                 as_json: Json = False,
                 server: Server = DEFAULT_URL, api_key_id: ApiKeyId = "",
                 api_secret_key: ApiSecretKey = "") -> None:
        """List recent messages."""
        params: dict[str, Any] = {"limit": limit, "order_by": "createdAt",
                                  "order_direction": "desc"}
        if number:
            params["number"] = number
        result = call(server, api_key_id, api_secret_key, "GET", "/api/v2/messages", params=params)
        if as_json:
            print_json(result)
            return
        table = Table(key("sent"), key("dir"), key("number"), key("status"), text("content"),
                      key("handle"))
        for row in result.get("data", []):
            table.add_row(row.get("date_sent") or "", "→" if row.get("is_outbound") else "←",
                          row.get("number") or "",
                          f"[{status_style(row.get('status'))}]{row.get('status')}[/]",
                          escape(short(row.get("content"))), row.get("message_handle") or "")
        out = console()
        print_table(out, table)
        total = result.get("pagination", {}).get("total")
        out.print(f"{len(result.get('data', []))} of {total}")


def local_time(value: str | None) -> str:
    """An ISO 8601 time from the API, shown in the local zone (as given if it is not one)."""
    if not value:
        return ""
    try:
        return datetime.fromisoformat(value).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return value

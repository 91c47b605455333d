"""Commands that use a running server's HTTP API, with the same key headers as any client."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.table import Table

console = Console()
err = Console(stderr=True)

Url = Annotated[str, typer.Option("--url", envvar="BLUEWIRE_URL",
                                  help="The server's base URL.")]
KeyId = Annotated[str, typer.Option("--key-id", envvar="BLUEWIRE_API_KEY_ID",
                                    help="sb-api-key-id (or BLUEWIRE_API_KEY_ID).")]
Secret = Annotated[str, typer.Option("--secret", envvar="BLUEWIRE_API_SECRET_KEY",
                                     help="sb-api-secret-key (or BLUEWIRE_API_SECRET_KEY).")]
DEFAULT_URL = "http://127.0.0.1:8080"


def _call(url: str, key_id: str, secret: str, method: str, path: str,
          **kwargs: Any) -> dict[str, Any]:
    headers = {"sb-api-key-id": key_id, "sb-api-secret-key": secret}
    try:
        response = httpx.request(method, url.rstrip("/") + path, headers=headers,
                                 timeout=30, **kwargs)
    except httpx.HTTPError as exc:
        err.print(f"[red]error:[/red] cannot reach {url}: {exc}")
        raise typer.Exit(1) from None
    try:
        body = response.json()
    except ValueError:
        body = {"message": response.text}
    if response.status_code >= 400:
        code = body.get("error_code")
        err.print(f"[red]error {response.status_code}[/red]"
                  f"{f' ({code})' if code else ''}: {body.get('message') or body}")
        raise typer.Exit(1)
    return body


def _media_url(url: str, key_id: str, secret: str, media: str) -> str:
    """`media` itself if it is a URL or media object id; a local file is uploaded first."""
    if media.startswith(("http://", "https://", "bluewire-media://", "mo_")) \
            and not Path(media).exists():
        return media
    path = Path(media)
    if not path.is_file():
        err.print(f"[red]error:[/red] {media} is neither a file nor an http(s) URL")
        raise typer.Exit(2)
    with path.open("rb") as file:
        answer = _call(url, key_id, secret, "POST", "/api/upload-file",
                       files={"file": (path.name, file)})
    return str(answer["media_url"])


def _status_style(status: str | None) -> str:
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
             url: Url = DEFAULT_URL, key_id: KeyId = "", secret: Secret = "") -> None:
        """Send a message (text, a picture or file, or both)."""
        if not text and not media:
            err.print("[red]error:[/red] give a text, --media, or both")
            raise typer.Exit(2)
        body: dict[str, Any] = {"number": number}
        if text:
            body["content"] = text
        if media:
            body["media_url"] = _media_url(url, key_id, secret, media)
        if from_line:
            body["from_number"] = from_line
        result = _call(url, key_id, secret, "POST", "/api/send-message", json=body)
        status = result.get("status")
        console.print(f"[{_status_style(status)}]{status}[/]  {result.get('message_handle')}"
                      f"  {result.get('from_number')} → {result.get('number')}")

    @app.command()
    def status(handle: str, url: Url = DEFAULT_URL, key_id: KeyId = "",
               secret: Secret = "") -> None:
        """Show a message's status."""
        result = _call(url, key_id, secret, "GET", "/api/status", params={"handle": handle})
        table = Table(show_header=False, box=None)
        for field in ("message_handle", "status", "service", "from_number", "number",
                      "content", "date_created", "date_updated", "error_code",
                      "error_message"):
            value = result.get(field)
            if value is not None:
                style = _status_style(value) if field == "status" else ""
                table.add_row(field, f"[{style}]{value}[/]" if style else str(value))
        console.print(table)

    @app.command()
    def messages(number: Annotated[str | None, typer.Option(
                     help="Only the conversation with this number.")] = None,
                 limit: Annotated[int, typer.Option(help="How many, newest first.")] = 20,
                 url: Url = DEFAULT_URL, key_id: KeyId = "", secret: Secret = "") -> None:
        """List recent messages."""
        params: dict[str, Any] = {"limit": limit, "order_by": "createdAt",
                                  "order_direction": "desc"}
        if number:
            params["number"] = number
        result = _call(url, key_id, secret, "GET", "/api/v2/messages", params=params)
        table = Table("sent", "dir", "number", "status", "content", "handle")
        for row in result.get("data", []):
            table.add_row(row.get("date_sent") or "", "→" if row.get("is_outbound") else "←",
                          row.get("number") or "",
                          f"[{_status_style(row.get('status'))}]{row.get('status')}[/]",
                          (row.get("content") or "")[:60], row.get("message_handle") or "")
        console.print(table)
        total = result.get("pagination", {}).get("total")
        console.print(f"{len(result.get('data', []))} of {total}")


def local_time(value: str | None) -> str:
    """An ISO 8601 time from the API, shown in the local zone (as given if it is not one)."""
    if not value:
        return ""
    try:
        return datetime.fromisoformat(value).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return value

"""`bluewire send-group`: a message to a group, over the server's HTTP API."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from .client import DEFAULT_URL, KeyId, Secret, Url, _call, _status_style, console, err


def group_app(app: typer.Typer) -> None:
    @app.command("send-group")
    def send_group(args: Annotated[list[str], typer.Argument(
                       help="Two or more E.164 numbers, then the text.")],
                   from_line: Annotated[str | None, typer.Option(
                       "--from", help="The line to send from (required).")] = None,
                   media: Annotated[str | None, typer.Option(
                       "--media", help="A media URL to attach.")] = None,
                   url: Url = DEFAULT_URL, key_id: KeyId = "", secret: Secret = "") -> None:
        """Send a message to a new group of NUMBER NUMBER… (the last argument is the text)."""
        *numbers, text = args
        if len(numbers) < 2:
            err.print("[red]error:[/red] give at least two numbers, then the text")
            raise typer.Exit(2)
        if not from_line:
            err.print("[red]error:[/red] --from is required: the line to send from")
            raise typer.Exit(2)
        body: dict[str, Any] = {"numbers": numbers, "content": text, "from_number": from_line}
        if media:
            body["media_url"] = media
        result = _call(url, key_id, secret, "POST", "/api/send-group-message", json=body)
        status = result.get("status")
        console.print(f"[{_status_style(status)}]{status}[/]  {result.get('message_handle')}"
                      f"  group {result.get('group_id')}  {result.get('from_number')} → "
                      f"{', '.join(result.get('participants') or numbers)}")

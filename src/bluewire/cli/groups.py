"""`bluewire send-group`: a message to a group, over the server's HTTP API."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape

from .client import err, status_style
from .flags import DEFAULT_URL, ApiKeyId, ApiSecretKey, Campaign, Server, Tags, labels
from .follow_ups import describe, parse_specs, scheduled_with
from .http import call
from .output import console


def group_app(app: typer.Typer) -> None:
    @app.command("send-group")
    def send_group(args: Annotated[list[str], typer.Argument(
                       help="Two or more E.164 numbers, then the text.")],
                   from_line: Annotated[str | None, typer.Option(
                       "--from", help="The line to send from (required).")] = None,
                   media: Annotated[str | None, typer.Option(
                       "--media", help="A media URL to attach.")] = None,
                   campaign: Campaign = None,
                   tag: Tags = None,
                   follow_up: Annotated[list[str] | None, typer.Option(
                       "--follow-up", metavar="SPEC",
                       help="'<condition> after <duration>: <text>' as for `send`; the "
                            "follow-up goes to the group (repeatable).")] = None,
                   server: Server = DEFAULT_URL, api_key_id: ApiKeyId = "",
                   api_secret_key: ApiSecretKey = "") -> None:
        """Send a message to a new group of NUMBER NUMBER… (the last argument is the text)."""
        *numbers, text = args
        if len(numbers) < 2:
            err.print("[red]error:[/red] give at least two numbers, then the text")
            raise typer.Exit(2)
        if not from_line:
            err.print("[red]error:[/red] --from is required: the line to send from")
            raise typer.Exit(2)
        follow_ups = parse_specs(follow_up)
        body: dict[str, Any] = {"numbers": numbers, "content": text, "from_number": from_line,
                                **labels(campaign, tag)}
        if media:
            body["media_url"] = media
        if follow_ups:
            body["follow_ups"] = follow_ups
        result = call(server, api_key_id, api_secret_key, "POST", "/api/send-group-message",
                      payload=body)
        made = scheduled_with(server, api_key_id, api_secret_key,
                              str(result.get("message_handle")), follow_ups) \
            if follow_ups else []
        status = result.get("status")
        console().print(f"[{status_style(status)}]{status}[/]  {result.get('message_handle')}"
                        f"  group {result.get('group_id')}  {result.get('from_number')} → "
                        f"{', '.join(result.get('participants') or numbers)}")
        for item in made:
            console().print(f"  follow-up {item.get('id')}: {escape(describe(item))}")

"""`bluewire events`: follow the account's live event stream (GET /api/v2/events) until Ctrl-C."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from .client import status_style
from .flags import DEFAULT_URL, ApiKeyId, ApiSecretKey, Server

if TYPE_CHECKING:
    import httpx

console = Console(soft_wrap=True, highlight=False)
err = Console(stderr=True)

# The server sends a heartbeat every 15 s: a minute of silence means the connection is dead.
_CONNECT_TIMEOUT_S, _READ_TIMEOUT_S = 10.0, 60.0
_MAX_DELAY_S = 30.0
# A stream that ends sooner than this was not rotated: wait before connecting again.
_SHORT_LIVED_S = 5.0


class _Refused(Exception):
    """The server answered the stream request with an error that retrying will not fix."""


def events_command(app: typer.Typer) -> None:
    @app.command()
    def events(
        types: Annotated[str | None, typer.Option(
            "--types", help="Only these event types, comma-separated "
                            "(e.g. message.received,message.updated).",
        )] = None,
        jsonl: Annotated[bool, typer.Option(
            "--jsonl", help="Print each event as one line of JSON (the AccountEvent).",
        )] = False,
        server: Server = DEFAULT_URL, api_key_id: ApiKeyId = "", api_secret_key: ApiSecretKey = "",
    ) -> None:
        """Follow the account's live events; reconnects when the stream ends. Ctrl-C stops."""
        try:
            _follow(server, api_key_id, api_secret_key, types, jsonl)
        except _Refused as exc:
            err.print(f"[red]error[/red] {exc}")
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            pass


def _follow(url: str, key_id: str, secret: str, types: str | None, jsonl: bool) -> None:
    import httpx  # here: the commands that need no stream start faster without it

    endpoint = url.rstrip("/") + "/api/v2/events"
    headers = {"sb-api-key-id": key_id, "sb-api-secret-key": secret,
               "accept": "text/event-stream"}
    params = {"types": types} if types else {}
    delay = 1.0
    connected_before = False
    while True:
        opened = time.monotonic()
        try:
            with httpx.stream("GET", endpoint, params=params, headers=headers,
                              timeout=httpx.Timeout(_CONNECT_TIMEOUT_S,
                                                    read=_READ_TIMEOUT_S)) as response:
                _check(response)
                err.print(f"[dim]{'reconnected' if connected_before else 'connected'} to "
                          f"{escape(url)}; waiting for events (Ctrl-C to stop)[/dim]")
                sys.stderr.flush()
                connected_before = True
                delay = 1.0
                for event in _events(_frames(response.iter_lines())):
                    _show(event, jsonl)
            if time.monotonic() - opened >= _SHORT_LIVED_S:
                continue  # rotated: connect again at once
            reason = "the stream ended"
        except httpx.HTTPError as exc:
            reason = f"the stream was lost ({exc.__class__.__name__})"
        err.print(f"[yellow]{reason}; reconnecting in {delay:g} s[/yellow]")
        time.sleep(delay)
        delay = min(delay * 2, _MAX_DELAY_S)


def _check(response: httpx.Response) -> None:
    import httpx

    if response.status_code < 400:
        return
    response.read()
    try:
        message = response.json().get("message") or response.text
    except ValueError:
        message = response.text
    if response.status_code == 404:
        message = "this server does not have the events endpoint"
    if response.status_code in (408, 429) or response.status_code >= 500:
        raise httpx.HTTPStatusError(f"{response.status_code}: {message}",
                                    request=response.request, response=response)
    raise _Refused(f"{response.status_code}: {message}")


def _frames(lines: Iterable[str]) -> Iterator[str]:
    """The `data` of each SSE frame (comments and other fields skipped)."""
    data: list[str] = []
    for line in lines:
        if not line:
            if data:
                yield "\n".join(data)
                data = []
        elif line.startswith("data:"):
            value = line[5:]
            data.append(value[1:] if value.startswith(" ") else value)


def _events(frames: Iterable[str]) -> Iterator[dict[str, Any]]:
    """The frames that are account events (anything else is not shown)."""
    from ..domain.account_events import ALL_TYPES

    for frame in frames:
        try:
            event = json.loads(frame)
            datetime.fromisoformat(event["occurred_at"])
        except (ValueError, TypeError, KeyError):
            continue
        if (isinstance(event, dict) and event.get("version") == 1 and event.get("id")
                and event.get("type") in ALL_TYPES and isinstance(event.get("data"), dict)):
            yield event


def _show(event: dict[str, Any], jsonl: bool) -> None:
    if jsonl:
        sys.stdout.write(json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n")
        sys.stdout.flush()
        return
    at = datetime.fromisoformat(event["occurred_at"]).astimezone().strftime("%H:%M:%S.%f")[:-3]
    console.print(f"[dim]{at}[/dim]  [bold]{event['type']:<21}[/bold] "
                  f"{_summary(event['type'], event['data'])}")


def _summary(type_: str, data: dict[str, Any]) -> str:
    def field(name: str) -> str:
        value = data.get(name)
        return "" if value is None else escape(str(value))

    if type_.startswith("message."):
        status = data.get("status")
        arrow = "→" if data.get("is_outbound") else "←"
        content = escape((data.get("content") or "")[:60])
        error = f" [red]{field('error_code')} {field('error_message')}[/red]" \
            if data.get("error_code") else ""
        return (f"[{status_style(status)}]{escape(str(status)):<9}[/]  {field('sendblue_number')} "
                f"{arrow} {field('number')}  {content}{error}  [dim]{field('message_id')}[/dim]")
    if type_ == "typing.changed":
        doing = "typing" if data.get("is_typing") else "stopped typing"
        return f"{field('number')} {doing}"
    if type_.startswith("line."):
        return f"{field('sendblue_number')} {field('status')}"
    if type_ == "contact.created":
        name = " ".join(filter(None, (data.get("first_name"), data.get("last_name"))))
        return f"{field('phone')} {escape(name)}"
    if type_.startswith("verification."):
        return f"{field('verification_sid')} {field('status')}"
    return escape(json.dumps(data, separators=(",", ":"))[:100])

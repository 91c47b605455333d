"""`bluewire sandbox`: act as a simulated phone of the sandbox network, over the server's HTTP
API (/sandbox/phones/…) with the same key headers as any client."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

import typer
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from .client import local_time, status_style
from .flags import DEFAULT_URL, ApiKeyId, ApiSecretKey, Server, Typer
from .http import call
from .output import Json, console, key, print_json, print_table, text

Line = Annotated[str | None, typer.Option(
    "--line", help="The line the phone talks to (default: the account's sandbox line the phone "
                   "last talked with, else its first).")]


def _path(number: str, action: str = "") -> str:
    return f"/sandbox/phones/{quote(number.strip(), safe='')}{action}"


def _with_line(body: dict[str, Any], line: str | None) -> dict[str, Any]:
    if line:
        body["line"] = line
    return body


def sandbox_commands(app: typer.Typer) -> None:
    sandbox_app = Typer(
        help="Act as a simulated phone of the sandbox network: reply, read, type, deliver, "
             "and show the conversation as the phone sees it.", no_args_is_help=True)
    app.add_typer(sandbox_app, name="sandbox")

    @sandbox_app.command("reply")
    def reply(
        number: Annotated[str, typer.Argument(help="The phone (E.164), e.g. +14155550100.")],
        text: Annotated[str | None, typer.Argument(help="What the phone says.")] = None,
        media: Annotated[list[str] | None, typer.Option(
            "--media", help="A media URL the phone sends (repeatable).")] = None,
        line: Line = None,
        server: Server = DEFAULT_URL, api_key_id: ApiKeyId = "", api_secret_key: ApiSecretKey = "",
    ) -> None:
        """The phone sends a message to a line (an inbound message)."""
        body = _with_line({}, line)
        if text:
            body["content"] = text
        if media:
            body["media_urls"] = media
        result = call(server, api_key_id, api_secret_key, "POST", _path(number, "/messages"),
                      payload=body)
        handles = result.get("message_handles") or []
        what = escape(result.get("content") or "") or "(media)"
        extra = f"  + {len(result.get('media_urls') or [])} media" if result.get("media_urls") \
            and result.get("content") else ""
        console().print(f"{result.get('number')} → {result.get('line')} "
                        f"({result.get('service')}): {what}{extra}")
        if handles:
            console().print(f"received as {', '.join(handles)}")
        else:
            console().print("[yellow]not received by this account[/yellow] (a phone this "
                            "account has never written to reaches no account)")

    @sandbox_app.command("read")
    def read(
        number: Annotated[str, typer.Argument(help="The phone (E.164).")],
        line: Line = None,
        server: Server = DEFAULT_URL, api_key_id: ApiKeyId = "", api_secret_key: ApiSecretKey = "",
    ) -> None:
        """The phone reads its conversation with a line (READ receipts, if it sends them)."""
        result = call(server, api_key_id, api_secret_key, "POST", _path(number, "/read"),
                      payload=_with_line({}, line))
        read_count = result.get("read", 0)
        if result.get("receipts_reported"):
            told = "[green]read receipts sent[/green]"
        elif not result.get("read_receipts"):
            told = "[yellow]no read receipts (this phone does not send them)[/yellow]"
        else:
            told = "nothing new to report"
        console().print(f"{result.get('number')} read {read_count} message"
                        f"{'' if read_count == 1 else 's'} from {result.get('line')}: {told}")

    @sandbox_app.command("type")
    def type_(
        number: Annotated[str, typer.Argument(help="The phone (E.164).")],
        stop: Annotated[bool, typer.Option("--stop", help="Stop typing.")] = False,
        line: Line = None,
        server: Server = DEFAULT_URL, api_key_id: ApiKeyId = "", api_secret_key: ApiSecretKey = "",
    ) -> None:
        """The phone starts (or, with --stop, stops) typing to a line."""
        result = call(server, api_key_id, api_secret_key, "POST", _path(number, "/typing"),
                      payload=_with_line({"typing": not stop}, line))
        doing = "is typing" if result.get("is_typing") else "stopped typing"
        note = "" if result.get("reported") else "  [yellow](SMS: the line cannot see it)[/yellow]"
        console().print(f"{result.get('number')} {doing} to {result.get('line')}{note}")

    @sandbox_app.command("deliver")
    def deliver(
        number: Annotated[str, typer.Argument(help="A manual phone (E.164, …0108).")],
        line: Line = None,
        server: Server = DEFAULT_URL, api_key_id: ApiKeyId = "", api_secret_key: ApiSecretKey = "",
    ) -> None:
        """A manual phone reports DELIVERED for what it has been sent."""
        result = call(server, api_key_id, api_secret_key, "POST", _path(number, "/deliver"),
                      payload=_with_line({}, line))
        count = result.get("delivered", 0)
        console().print(f"{result.get('number')} delivered {count} message"
                        f"{'' if count == 1 else 's'} from {result.get('line')}")

    @sandbox_app.command("show")
    def show(
        number: Annotated[str, typer.Argument(help="The phone (E.164).")],
        as_json: Json = False,
        server: Server = DEFAULT_URL, api_key_id: ApiKeyId = "", api_secret_key: ApiSecretKey = "",
    ) -> None:
        """The phone's conversations as the phone sees them: messages in and out with their
        statuses, the read receipts it was sent, and typing."""
        view = call(server, api_key_id, api_secret_key, "GET", _path(number))
        if as_json:
            print_json(view)
        else:
            _print_view(view)


def _print_view(view: dict[str, Any]) -> None:
    receipts = "sends read receipts" if view.get("read_receipts") else "no read receipts"
    manual = ", manual" if view.get("manual") else ""
    behaviour = escape(view.get("behaviour") or "")
    console().print(Panel.fit(f"[bold]{view.get('number')}[/bold]  {behaviour}"
                              f"  ({view.get('service')}, {receipts}{manual})",
                              title="sandbox phone"))
    conversations = view.get("conversations") or []
    if not conversations:
        console().print("No conversation with this account's lines yet.")
        return
    for conversation in conversations:
        _print_conversation(conversation)


def _print_conversation(conversation: dict[str, Any]) -> None:
    line = conversation.get("line")
    rows: list[tuple[str, str, str, str]] = []
    for message in conversation.get("received") or []:
        status = message.get("status") or ""
        shown = f"[{status_style(status)}]{status}[/]"
        if message.get("read_at"):
            shown += f" {local_time(message['read_at'])}"
        rows.append((message.get("received_at") or "", "[cyan]← in[/cyan]",
                     _text(message.get("content"), [message.get("media_url")]), shown))
    for message in conversation.get("sent") or []:
        read_at = message.get("read_at")
        shown = f"[green]Read[/] {local_time(read_at)}" if read_at else "Sent"
        rows.append((message.get("sent_at") or "", "[magenta]→ out[/magenta]",
                     _text(message.get("content"), message.get("media_urls") or []), shown))
    table = Table(key("time"), key(""), text("message"), text("status"), title=f"with {line}",
                  title_justify="left")
    for at, direction, message_text, status in sorted(rows, key=lambda row: row[0]):
        table.add_row(local_time(at), direction, message_text, status)
    print_table(console(), table)
    receipts = conversation.get("read_receipts") or []
    if receipts:
        console().print(f"  read receipts from {line}: {len(receipts)} "
                        f"(latest {local_time(receipts[-1].get('received_at'))})")
    else:
        console().print(f"  read receipts from {line}: none")
    typing = conversation.get("typing")
    if typing:
        state = "[bold]is typing…[/bold]" if typing.get("is_typing") else "not typing"
        console().print(f"  {line} {state} (since {local_time(typing.get('updated_at'))})")
    phone_typing = conversation.get("phone_typing")
    if phone_typing and phone_typing.get("is_typing"):
        since = local_time(phone_typing.get("updated_at"))
        console().print(f"  the phone is typing (since {since})")


def _text(content: str | None, media: list[str | None]) -> str:
    parts = [escape(content)] if content else []
    parts += [f"[dim]media {escape(url)}[/dim]" for url in media if url]
    return "\n".join(parts)


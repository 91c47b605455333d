"""Follow-ups from the command line: `send --follow-up SPEC` and `bluewire follow-ups list|cancel`,
over the server's HTTP API (/api/v2/follow-ups).

A SPEC is `<condition> after <duration>: <text>`, e.g. `not_read after 2h: Did you see this?`;
the text `notify` alone makes a notify action (an event and a webhook, nothing sent). Every
SPEC is checked here before anything is sent, then they go with the message (send-message's
`follow_ups`): the server checks them too and schedules them in the transaction that accepts
the message, so a refused one leaves nothing sent.
"""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import quote

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..domain.follow_ups import CONDITIONS, DURATION, MAX_AFTER_MS
from .flags import DEFAULT_URL, ApiKeyId, ApiSecretKey, Server, Typer
from .http import call
from .output import Json, console, key, print_json, print_table, short, text

err = Console(stderr=True, highlight=False)

STATES = ("scheduled", "fired", "skipped", "cancelled")
MAX_AFTER_S = MAX_AFTER_MS // 1000
MAX_CONTENT_CHARS = 18996  # a text must be shorter than this, as a message's content
NOTIFY = "notify"
SYNTAX = ("'<condition> after <duration>: <text>', e.g. 'not_read after 2h: Did you see this?' "
          "or 'not_delivered after 10m: notify'; conditions: " + ", ".join(CONDITIONS)
          + "; durations: 30s, 10m, 2h, 1d, 1w (or 1h30m), or ISO 8601 such as PT2H, P1D")

_SPEC = re.compile(r"^\s*(?P<condition>[A-Za-z_]+)\s+after\s+(?P<after>[^\s:]+)\s*:(?P<text>.*)$",
                   re.DOTALL)
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_SHORT = re.compile(r"^(?:\d+(?:\.\d+)?[smhdw])+$")
_SHORT_PART = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")


class BadSpec(ValueError):
    """A --follow-up that does not follow SYNTAX; the message says what is wrong."""


def duration_seconds(value: str) -> float | None:
    """`30s`, `10m`, `2h`, `1d`, `1w`, `1h30m`, a bare number of seconds, or an ISO 8601
    duration (PT2H, P1D), in seconds; None if it is none of these."""
    value = value.strip()
    lowered = value.lower()
    if re.fullmatch(r"\d+(?:\.\d+)?", lowered):
        return float(lowered)
    if _SHORT.match(lowered):
        return sum(float(n) * _UNIT_S[unit] for n, unit in _SHORT_PART.findall(lowered))
    found = DURATION.match(value.upper())
    if found is None:
        return None
    parts = {k: float(v) for k, v in found.groupdict().items() if v is not None}
    return sum(parts.get(unit, 0.0) * _UNIT_S[unit] for unit in _UNIT_S)


def parse_spec(spec: str) -> dict[str, Any]:
    """A --follow-up SPEC as the API's item: {condition, after, action}; BadSpec if it is not
    one."""
    found = _SPEC.match(spec)
    if found is None:
        raise BadSpec("it is not of the form <condition> after <duration>: <text>")
    condition = found["condition"].lower()
    if condition not in CONDITIONS:
        raise BadSpec(f"unknown condition {found['condition']!r}")
    after = found["after"]
    seconds = duration_seconds(after)
    if seconds is None:
        raise BadSpec(f"{after!r} is not a duration")
    if seconds <= 0:
        raise BadSpec("the duration must be more than zero")
    if seconds > MAX_AFTER_S:
        raise BadSpec("the duration must be at most 30 days")
    content = found["text"].strip()
    if not content:
        raise BadSpec("the text after ':' is empty (write `notify` for a notify action)")
    if len(content) >= MAX_CONTENT_CHARS:
        raise BadSpec(f"the text is {len(content)} characters; it must be under "
                      f"{MAX_CONTENT_CHARS}")
    # ISO 8601 goes as written (the follow-up keeps the client's words); the rest as seconds
    after_value: float | str = after.upper() if after.upper().startswith("P") else seconds
    action: dict[str, Any] = {"notify": {}} if content == NOTIFY \
        else {"send": {"content": content}}
    return {"condition": condition, "after": after_value, "action": action}


def parse_specs(specs: list[str] | None) -> list[dict[str, Any]]:
    """Every --follow-up parsed, or the first bad one named with the syntax (exit 2)."""
    items = []
    for spec in specs or []:
        try:
            items.append(parse_spec(spec))
        except BadSpec as exc:
            err.print(f"[red]error:[/red] --follow-up {escape(repr(spec))}: {escape(str(exc))}."
                      f"\nSyntax: {escape(SYNTAX)}", soft_wrap=True)
            raise typer.Exit(2) from None
    return items


def scheduled_with(server: str, key_id: str, secret: str, handle: str,
                   items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The follow-ups a send scheduled with its message (given as its `follow_ups`, in the
    transaction that accepted it), in the order given. A server from before `follow_ups` on
    sends ignores the field: then they are created now, one by one, for the message sent."""
    listed = call(server, key_id, secret, "GET", "/api/v2/follow-ups",
                  params={"message": handle, "limit": 1000})
    found = list(reversed(listed.get("data") or []))  # newest first, the first given last
    if found:
        return found
    made: list[dict[str, Any]] = []
    for item in items:
        try:
            answer = call(server, key_id, secret, "POST", "/api/v2/follow-ups",
                          payload={"message_handle": handle, **item})
        except typer.Exit:
            done = ", ".join(str(one.get("id")) for one in made) or "none"
            err.print(f"the message {handle} was sent; follow-ups made before this one: {done}")
            raise
        made.append(answer.get("data") or {})
    return made


def human_seconds(value: float | None) -> str:
    """A duration in seconds as people write it: 850ms, 4.2s, 12m 5s, 2h, 1d 3h ("-" for
    None)."""
    if value is None:
        return "-"
    if value < 1:
        return f"{round(value * 1000)}ms"
    if value < 60:
        return f"{value:.1f}".rstrip("0").rstrip(".") + "s"
    whole = round(value)
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, whole = divmod(whole, size)
        if count:
            parts.append(f"{count}{unit}")
    return " ".join(parts[:2])


def describe_action(action: dict[str, Any] | None) -> str:
    action = action or {}
    if "notify" in action:
        return "notify"
    send = action.get("send") or {}
    what = short(send.get("content"), 40)
    if send.get("media_url"):
        what = f"{what} + media" if what else "media"
    return f"send: {what}"


def describe(item: dict[str, Any]) -> str:
    """One follow-up as the send command confirms it."""
    after = item.get("after")
    shown = human_seconds(after) if isinstance(after, int | float) else str(after)
    return f"{item.get('condition')} after {shown} → {describe_action(item.get('action'))}"


def _state(item: dict[str, Any]) -> str:
    state = item.get("state") or ""
    style = {"scheduled": "cyan", "fired": "green", "skipped": "yellow",
             "cancelled": "dim"}.get(state, "white")
    reason = item.get("reason")
    shown = f"[{style}]{escape(state)}[/]"
    return f"{shown} ({escape(reason)})" if reason and reason != state else shown


def follow_ups_commands(app: typer.Typer) -> None:
    follow_ups_app = Typer(
        help="Follow-ups: a conditional action on a sent message (create them with "
             "`bluewire send … --follow-up`).", no_args_is_help=True)
    app.add_typer(follow_ups_app, name="follow-ups")

    @follow_ups_app.command("list")
    def list_(
        message: Annotated[str | None, typer.Option(
            "--message", help="Only the follow-ups of this message (its handle).")] = None,
        state: Annotated[str | None, typer.Option(
            "--state", help="Only those in this state: " + ", ".join(STATES) + ".")] = None,
        limit: Annotated[int, typer.Option(help="How many, newest first.")] = 100,
        as_json: Json = False,
        server: Server = DEFAULT_URL, api_key_id: ApiKeyId = "", api_secret_key: ApiSecretKey = "",
    ) -> None:
        """List follow-ups, newest first."""
        params: dict[str, Any] = {"limit": limit}
        if message:
            params["message"] = message
        if state:
            params["state"] = state
        result = call(server, api_key_id, api_secret_key, "GET", "/api/v2/follow-ups",
                      params=params)
        if as_json:
            print_json(result)
            return
        from .client import local_time

        table = Table(key("id"), key("message"), key("number"), key("condition"), key("after"),
                      key("due"), text("state"), text("action"), key("sent as"))
        for row in result.get("data") or []:
            table.add_row(row.get("id") or "", row.get("message_handle") or "",
                          row.get("group_id") or row.get("number") or "",
                          row.get("condition") or "", human_seconds(row.get("after")),
                          local_time(row.get("due_at")), _state(row),
                          escape(describe_action(row.get("action"))),
                          row.get("result_message_handle") or "")
        out = console()
        print_table(out, table)
        total = (result.get("pagination") or {}).get("total")
        out.print(f"{len(result.get('data') or [])} of {total}")

    @follow_ups_app.command("cancel")
    def cancel(
        follow_up_id: Annotated[str, typer.Argument(metavar="ID", help="The follow-up (fu_…).")],
        as_json: Json = False,
        server: Server = DEFAULT_URL, api_key_id: ApiKeyId = "", api_secret_key: ApiSecretKey = "",
    ) -> None:
        """Cancel a scheduled follow-up (refused once it has fired, been skipped or cancelled)."""
        result = call(server, api_key_id, api_secret_key, "DELETE",
                      f"/api/v2/follow-ups/{quote(follow_up_id.strip(), safe='')}")
        if as_json:
            print_json(result)
            return
        data = result.get("data") or {}
        console().print(f"{_state(data)}  {data.get('id')}  {escape(describe(data))}  "
                        f"(message {data.get('message_handle')})")

"""`bluewire stats`: what happened to outbound messages (GET /api/v2/analytics/messages), as a
table with one row per bucket, or the answer as it is with `--json`."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from .flags import DEFAULT_URL, ApiKeyId, ApiSecretKey, Server
from .follow_ups import duration_seconds, human_seconds
from .http import call
from .output import Json, console, key, print_json, print_table


class By(StrEnum):
    line = "line"
    campaign = "campaign"
    tag = "tag"
    service = "service"
    day = "day"
    hour = "hour"


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def moment(value: str | None, now: datetime | None = None) -> str | None:
    """A --since/--until as the API reads it: an ISO 8601 time as given, a date alone as that
    day's UTC midnight, a duration (`24h`, `7d`) as that long before now."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if _DATE.match(value):
        return f"{value}T00:00:00Z"
    if not re.match(r"^\d{4}-", value):
        seconds = duration_seconds(value)
        if seconds is not None:
            at = (now or datetime.now(UTC)) - timedelta(seconds=seconds)
            return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return value


def percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate * 100:.1f}%"


def bucket_name(bucket_key: str | None, group_by: str | None) -> str:
    if group_by is None:
        return "all"
    if bucket_key is None:
        return "(none)"
    if group_by in ("day", "hour"):
        try:
            at = datetime.fromisoformat(bucket_key.replace("Z", "+00:00")).astimezone(UTC)
        except ValueError:
            return bucket_key
        return at.strftime("%Y-%m-%d") if group_by == "day" else at.strftime("%Y-%m-%d %H:00Z")
    return bucket_key


def _times(durations: dict[str, Any] | None) -> str:
    durations = durations or {}
    if not durations.get("count"):
        return "-"
    return f"{human_seconds(durations.get('p50'))} / {human_seconds(durations.get('p90'))}"


def stats_command(app: typer.Typer) -> None:
    @app.command()
    def stats(
        since: Annotated[str | None, typer.Option(
            help="Start of the window (inclusive): ISO 8601 with a time zone, a date (UTC "
                 "midnight), or a duration before now such as 24h or 7d. Default: until minus "
                 "7 days.")] = None,
        until: Annotated[str | None, typer.Option(
            help="End of the window (exclusive), written as --since is. Default: now.")] = None,
        line: Annotated[str | None, typer.Option(
            help="Only messages sent from this line.")] = None,
        campaign: Annotated[str | None, typer.Option(
            help="Only messages of this campaign.")] = None,
        tag: Annotated[str | None, typer.Option(help="Only messages with this tag.")] = None,
        service: Annotated[str | None, typer.Option(
            help="Only messages carried on this service: iMessage, SMS or RCS.")] = None,
        by: Annotated[By | None, typer.Option(
            "--by", help="One row per line, campaign, tag, service, UTC day or UTC hour "
                         "(default: one row).")] = None,
        as_json: Json = False,
        server: Server = DEFAULT_URL, api_key_id: ApiKeyId = "", api_secret_key: ApiSecretKey = "",
    ) -> None:
        """Delivery, read and reply rates of outbound messages, counted per recipient."""
        params = {"since": moment(since), "until": moment(until), "line": line,
                  "campaign": campaign, "tag": tag, "service": service,
                  "group_by": by.value if by is not None else None}
        result = call(server, api_key_id, api_secret_key, "GET", "/api/v2/analytics/messages",
                      params={name: value for name, value in params.items() if value})
        if as_json:
            print_json(result)
            return
        group_by = result.get("group_by")
        filters = [f"{name} {value}" for name, value in (
            ("line", line), ("campaign", campaign), ("tag", tag), ("service", service)) if value]
        title = f"{result.get('since')} → {result.get('until')}"
        if filters:
            title += "  (" + ", ".join(filters) + ")"
        table = Table(key(group_by or ""), key("sent", justify="right"),
                      key("delivered", justify="right"), key("read", justify="right"),
                      key("errored", justify="right"), key("pending", justify="right"),
                      key("delivery", justify="right"), key("read rate", justify="right"),
                      key("reply rate", justify="right"),
                      key("to deliver p50/p90", justify="right"),
                      key("to read p50/p90", justify="right"),
                      title=escape(title), title_justify="left")
        buckets = result.get("buckets") or []
        for bucket in buckets:
            table.add_row(escape(bucket_name(bucket.get("key"), group_by)),
                          *(str(bucket.get(name, 0)) for name in
                            ("sent", "delivered", "read", "errored", "pending")),
                          percent(bucket.get("delivery_rate")),
                          percent(bucket.get("read_rate")), percent(bucket.get("reply_rate")),
                          _times(bucket.get("time_to_deliver")), _times(bucket.get("time_to_read")))
        out = console()
        if not buckets:
            out.print(f"{escape(title)}\nNo outbound messages in this window.")
            return
        print_table(out, table)

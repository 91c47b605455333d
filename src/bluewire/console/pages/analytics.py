"""Analytics: GET <root>/analytics, what happened to the account's outbound messages in a
window, as GET /api/v2/analytics/messages answers it. The page's query string is the API's own
(since, until, line, campaign, tag, service), decoded as the API decodes it, so a bad one shows
the API's error; the figures are the service's, asked three times over the same window: once
whole (the headline), once by UTC day (by hour for a window of two days or less) for the chart,
and once by campaign. The chart is an SVG drawn here, with its numbers in a table beside it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, get_args
from urllib.parse import urlencode

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ...api.endpoint import convert
from ...domain.analytics import DAY_MS, HOUR_MS
from ...domain.errors import ApiError
from ...domain.payloads import iso
from ...domain.query import parse_moment
from ...domain.wire.analytics import AnalyticsQuery
from ...domain.wire.common import ServiceName
from ..rendering import page
from ..services import ConsoleServices

FILTERS = ("since", "until", "line", "campaign", "tag", "service")
SERVICES = get_args(ServiceName)
HOURLY_UP_TO_MS = 2 * DAY_MS  # a window this short is charted hour by hour
PRESETS = (("Last 24 hours", DAY_MS), ("Last 7 days", 7 * DAY_MS),
           ("Last 30 days", 30 * DAY_MS))

# The chart's drawing, in SVG user units (it scales to the page's width).
WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 10, 34
MAX_LABELS = 8  # x-axis labels at most; the rest are in the table


def routes(services: ConsoleServices) -> list[BaseRoute]:
    async def analytics_page(request: Request) -> Response:
        account = await services.account_of(request.state.session)
        given = {name: value.strip() for name, value in request.query_params.items()
                 if name in FILTERS and value.strip()}
        context: dict[str, Any] = {
            "filters": given, "services": SERVICES, "error": None, "total": None,
            "chart": None, "campaigns": [], "presets": _presets(given),
            "percent": percent, "duration": duration,
            "filtered": any(name in given for name in ("line", "campaign", "tag", "service")),
        }
        try:
            query = convert(given, AnalyticsQuery, "parameters")
            whole = await services.analytics.messages(account, query)
            # the same window for every question, though `until` defaults to now
            fixed = msgspec.structs.replace(query, since=whole["since"], until=whole["until"])
            since = parse_moment(whole["since"], "since") or 0
            until = parse_moment(whole["until"], "until") or 0
            step = "hour" if until - since <= HOURLY_UP_TO_MS else "day"
            by_time = await services.analytics.messages(
                account, msgspec.structs.replace(fixed, group_by=step))
            by_campaign = await services.analytics.messages(
                account, msgspec.structs.replace(fixed, group_by="campaign"))
        except ApiError as exc:
            context["error"] = exc.message
            return page(request, "console/analytics.html", context, active="analytics",
                        status=exc.http_status)
        periods = _periods(by_time["buckets"], since, until, step)
        context.update({
            "since": whole["since"], "until": whole["until"], "step": step,
            "total": whole["buckets"][0], "periods": periods, "chart": chart(periods, step),
            "campaigns": [_campaign_row(bucket, given) for bucket in by_campaign["buckets"]],
        })
        return page(request, "console/analytics.html", context, active="analytics")

    return [Route("/analytics", analytics_page, methods=["GET"])]


def _presets(given: dict[str, str]) -> list[tuple[str, str]]:
    """Links to the last day, week and month, keeping the filters."""
    kept = {name: value for name, value in given.items() if name not in ("since", "until")}
    now = datetime.now(UTC).timestamp() * 1000
    return [(title, "?" + urlencode({**kept, "since": iso(int(now - span))}))
            for title, span in PRESETS]


def _campaign_row(bucket: dict[str, Any], given: dict[str, str]) -> dict[str, Any]:
    link = None
    if bucket["key"] is not None:
        link = "?" + urlencode({**given, "campaign": bucket["key"]})
    return {**bucket, "link": link}


def _periods(buckets: list[dict[str, Any]], since: int, until: int,
             step: str) -> list[dict[str, Any]]:
    """Every UTC day (or hour) the window touches, in order, each with its bucket's figures
    (None for a period without messages: the API answers only periods that have some)."""
    size = HOUR_MS if step == "hour" else DAY_MS
    found = {bucket["key"]: bucket for bucket in buckets}
    periods = []
    start = since - since % size
    while start < until:
        key = iso(start)
        periods.append({"key": key, "label": period_label(start, step),
                        "bucket": found.get(key)})
        start += size
    return periods


def period_label(start_ms: int, step: str) -> str:
    moment = datetime.fromtimestamp(start_ms / 1000, UTC)
    if step == "hour":
        return moment.strftime("%d %b %H:00")
    return moment.strftime("%d %b")


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    kind: str  # "delivery" or "read"
    title: str


@dataclass(frozen=True, slots=True)
class Label:
    x: float
    text: str


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    labels: list[Label]
    grid: list[tuple[float, str]]  # (y, "50%")
    left: int
    right: int
    base: float
    description: str


def chart(periods: list[dict[str, Any]], step: str) -> Chart:
    """Delivery and read rate per period as pairs of bars, on a 0-100% scale."""
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    base = TOP + plot_h
    slot = plot_w / max(1, len(periods))
    bar_w = slot * 0.36
    bars: list[Bar] = []
    for index, period in enumerate(periods):
        bucket = period["bucket"]
        if bucket is None:
            continue
        x0 = LEFT + index * slot + slot * 0.14
        for offset, kind, rate, part, whole, of in (
                (0, "delivery", bucket["delivery_rate"], bucket["delivered"], bucket["sent"],
                 "sent"),
                (1, "read", bucket["read_rate"], bucket["read"], bucket["delivered"],
                 "delivered")):
            if rate is None:
                continue
            height = max(rate * plot_h, 1.0)  # a 0% rate shows as a line on the axis
            bars.append(Bar(x=round(x0 + offset * bar_w, 2), y=round(base - height, 2),
                            width=round(bar_w, 2), height=round(height, 2), kind=kind,
                            title=f"{period['label']}: {kind} rate {percent(rate)} "
                                  f"({part} of {whole} {of})"))
    every = max(1, -(-len(periods) // MAX_LABELS))
    labels = [Label(x=round(LEFT + (index + 0.5) * slot, 2), text=period["label"])
              for index, period in enumerate(periods) if index % every == 0]
    grid = [(round(base - fraction * plot_h, 2), f"{fraction:.0%}")
            for fraction in (0, 0.25, 0.5, 0.75, 1)]
    with_data = sum(1 for period in periods if period["bucket"] is not None)
    unit = "hour" if step == "hour" else "day"
    description = (f"Delivery rate and read rate by {unit}, {len(periods)} {unit}s, "
                   f"{with_data} with messages. The table below gives each figure.")
    return Chart(width=WIDTH, height=HEIGHT, bars=bars, labels=labels, grid=grid,
                 left=LEFT, right=WIDTH - RIGHT, base=base, description=description)


def percent(rate: float | None) -> str:
    if rate is None:
        return "—"
    return f"{rate * 100:.1f}".removesuffix(".0") + "%"


def duration(seconds: float | None) -> str:
    """Seconds as a person reads them: 0.4 s, 12 s, 3 min 20 s, 2 h 5 min, 1 d 3 h."""
    if seconds is None:
        return "—"
    if seconds < 10:
        return f"{seconds:.1f}".removesuffix(".0") + " s"
    whole = round(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"

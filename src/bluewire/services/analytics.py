"""Read rates and the rest of what happened to an account's outbound messages."""

from __future__ import annotations

from typing import Any

from ..domain.analytics import DEFAULT_WINDOW_MS, MAX_WINDOW_DAYS, MAX_WINDOW_MS, assemble
from ..domain.errors import validation_error
from ..domain.payloads import iso
from ..domain.phones import require_number
from ..domain.query import parse_moment
from ..domain.wire.analytics import AnalyticsQuery
from ..store.accounts import Account
from ..store.analytics import AnalyticsFilter
from ..store.database import Database, now_ms
from ..store.writer import Writer
from .analytics_rollup import RolledUpAnalytics


class Analytics:
    def __init__(self, database: Database, writer: Writer) -> None:
        self._rolled_up = RolledUpAnalytics(database, writer)

    async def messages(self, account: Account, query: AnalyticsQuery) -> dict[str, Any]:
        now = now_ms()
        flt = parse_query(account.id, query, now)
        counts, histograms = await self._rolled_up.summarize(flt, now)
        return {"status": "OK", "since": iso(flt.since), "until": iso(flt.until),
                "group_by": flt.group_by,
                "buckets": assemble(flt.group_by, counts, (), histograms)}


def parse_query(account_id: int, query: AnalyticsQuery, now: int) -> AnalyticsFilter:
    until = parse_moment(query.until, "until")
    since = parse_moment(query.since, "since")
    if until is None:
        until = now if since is None or since < now else since + DEFAULT_WINDOW_MS
    if since is None:
        since = until - DEFAULT_WINDOW_MS
    if since >= until:
        raise validation_error("`since` must be before `until`")
    if until - since > MAX_WINDOW_MS:
        raise validation_error(f"`since` to `until` spans more than {MAX_WINDOW_DAYS} days: "
                               "ask for a shorter window")
    line = require_number(query.line, "line", recipient=False) if query.line else None
    return AnalyticsFilter(account_id=account_id, since=since, until=until, line=line,
                           campaign=query.campaign or None, tag=query.tag or None,
                           service=query.service or None, group_by=query.group_by)

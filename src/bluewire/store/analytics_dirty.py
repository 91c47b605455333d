"""Marks of the closed hours whose analytics a write changed, in the write's transaction.

The rollup (analytics_rollup.py) sums closed hours and days once; a status, a receipt or a
reply that changes what a message of a closed hour counts bumps that hour's mark, and the spans
holding it are summed again before they are used. The current hour is never summed ahead of
time, so the writes about its messages (nearly all of them) mark nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..domain.analytics import HOUR_MS
from .database import now_ms
from .writer import Tx

_MARK = (
    "INSERT INTO analytics_dirty (account_id, hour_start, version) VALUES (?, ?, 1) "
    "ON CONFLICT (account_id, hour_start) DO UPDATE SET version = analytics_dirty.version + 1"
)


def mark_changed(tx: Tx, changed: Iterable[tuple[int | None, int]]) -> None:
    """(account id, created_at) of outbound messages whose counts this transaction changes."""
    opened = now_ms() // HOUR_MS * HOUR_MS
    hours = sorted({(account_id, created_at - created_at % HOUR_MS)
                    for account_id, created_at in changed
                    if account_id is not None and created_at < opened})
    if hours:
        tx.execute_many(_MARK, hours)


def mark_message_changed(tx: Tx, message_id: int) -> None:
    """`mark_changed` for a message known by its id alone."""
    opened = now_ms() // HOUR_MS * HOUR_MS
    rows = tx.query("SELECT account_id, created_at FROM messages WHERE id = ? AND created_at < ?",
                    (message_id, opened))
    mark_changed(tx, [(row[0], row[1]) for row in rows])

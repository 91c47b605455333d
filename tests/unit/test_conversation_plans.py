"""A group conversation is read through the group's own index on SQLite, not by ranging over
every message of its account: the console's conversation list counts each group's unread
messages, and a thread is paged, for every group shown."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, insert

from bluewire.store.conversations import ConversationKey, thread_before, unread_count
from bluewire.store.database import Database
from bluewire.store.schema import accounts, messages

LINE = "+14155550199"
GROUP = "grp_plans"


def _message(i: int, *, account_id: int = 1, group_id: str | None = None,
             outbound: bool = True, number: str = "+12125550100") -> dict[str, Any]:
    return {"handle": f"h{account_id}-{i}", "account_id": account_id, "is_outbound": outbound,
            "line": LINE, "number": number, "status": "DELIVERED", "group_id": group_id,
            "created_at": 1_000 + i, "updated_at": 1_000 + i}


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'bluewire.db'}")
    database.migrate()
    with database.engine.begin() as conn:
        conn.execute(insert(accounts), [{"id": 1, "email": "a@x.com", "created_at": 0},
                                        {"id": 2, "email": "b@x.com", "created_at": 0}])
        # 500 contacts; one message in seven is theirs (no read receipt sent: all unread).
        conn.execute(insert(messages), [_message(i, number=f"+1212555{i % 500:04d}",
                                                 outbound=i % 7 != 0)
                                        for i in range(3_000)])
        conn.execute(insert(messages), [_message(i, account_id=2) for i in range(3_000, 3_500)])
        # The group: our message, then two answers (unread), then one more of ours and one
        # answer after it (the only one unread).
        conn.execute(insert(messages), [
            _message(5_000, group_id=GROUP),
            _message(5_001, group_id=GROUP, outbound=False, number="+12125550111"),
            _message(5_002, group_id=GROUP, outbound=False, number="+12125550112"),
            _message(5_003, group_id=GROUP),
            _message(5_004, group_id=GROUP, outbound=False, number="+12125550111"),
        ])
    yield database
    database.dispose()


def _plans_of(database: Database, read: Any) -> tuple[Any, list[str]]:
    """What `read(conn)` returns, and SQLite's plan of each statement it ran."""
    statements: list[tuple[str, Any]] = []

    def seen(_conn: Any, _cursor: Any, sql: str, params: Any, *_: Any) -> None:
        statements.append((sql, params))

    with database.engine.connect() as conn:
        event.listen(conn, "before_cursor_execute", seen)
        result = read(conn)
        event.remove(conn, "before_cursor_execute", seen)
        plans = [" | ".join(row[3] for row in conn.exec_driver_sql(
                     f"EXPLAIN QUERY PLAN {sql}", params))
                 for sql, params in statements]
    return result, plans


def test_a_groups_unread_count_reads_the_group_alone(database: Database) -> None:
    key = ConversationKey(LINE, group_id=GROUP)
    count, plans = _plans_of(database, lambda conn: unread_count(conn, 1, key))

    assert count == 1
    assert plans and all("ix_messages_group (group_id=?)" in plan for plan in plans), plans
    assert not any("(account_id=?)" in plan for plan in plans), plans


def test_a_groups_thread_reads_the_group_alone(database: Database) -> None:
    key = ConversationKey(LINE, group_id=GROUP)
    (page, older), plans = _plans_of(database, lambda conn: thread_before(conn, 1, key, None, 3))

    assert [m.handle for m in page] == ["h1-5002", "h1-5003", "h1-5004"] and older
    assert plans and all("ix_messages_group (group_id=?)" in plan for plan in plans), plans


def test_a_one_to_one_conversation_reads_through_the_conversation_index(
        database: Database) -> None:
    key = ConversationKey(LINE, number="+12125550007")
    count, plans = _plans_of(database, lambda conn: unread_count(conn, 1, key))

    assert count == 1  # of its six messages (7, 507, ... 2507), only the 7th is theirs
    assert any("ix_messages_conversation (account_id=? AND number=? AND line=?" in plan
               for plan in plans), plans

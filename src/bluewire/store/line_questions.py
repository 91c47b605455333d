"""Questions for a line's agent asked by a process it is not connected to (line_questions).

The asker writes the question; the process serving the line writes the answer into the same
row; the asker reads it and deletes the row. Rows whose asker never came back are deleted after
a while by whichever process finds them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, text

from .notifications import QUESTIONS
from .writer import Tx


@dataclass(frozen=True, slots=True)
class Question:
    id: int
    line: str
    kind: str
    body: str  # JSON object


def ask(tx: Tx, line: str, kind: str, body: str, now: int) -> int:
    [(question_id,)] = tx.query(
        "INSERT INTO line_questions (line, kind, body, asked_at) VALUES (?, ?, ?, ?) "
        "RETURNING id", (line, kind, body, now))
    tx.notify(QUESTIONS)
    return int(question_id)


def answer(tx: Tx, question_id: int, answer: str, now: int) -> None:
    tx.execute_many("UPDATE line_questions SET answer = ?, answered_at = ? "
                    "WHERE id = ? AND answered_at IS NULL", [(answer, now, question_id)])
    tx.notify(QUESTIONS)


def forget(tx: Tx, question_ids: list[int]) -> None:
    tx.execute_many("DELETE FROM line_questions WHERE id = ?", [(i,) for i in question_ids])


def forget_asked_before(tx: Tx, before: int) -> None:
    tx.execute_many("DELETE FROM line_questions WHERE asked_at < ?", [(before,)])


def open_for(conn: Connection, lines: list[str]) -> list[Question]:
    """The unanswered questions for `lines`, oldest first."""
    query = text("SELECT id, line, kind, body FROM line_questions "
                 "WHERE line IN :lines AND answered_at IS NULL ORDER BY id"
                 ).bindparams(bindparam("lines", expanding=True))
    return [Question(*row) for row in conn.execute(query, {"lines": lines})]


def answers(conn: Connection, question_ids: list[int]) -> dict[int, str]:
    """The answers written so far to the questions `question_ids`."""
    query = text("SELECT id, answer FROM line_questions "
                 "WHERE id IN :ids AND answered_at IS NOT NULL"
                 ).bindparams(bindparam("ids", expanding=True))
    return {int(row[0]): row[1] for row in conn.execute(query, {"ids": question_ids})}

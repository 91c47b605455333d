"""Queries on Verify services, verifications and TOTP secrets. Every read names the account:
another account's row is as absent as one that never was."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, delete, func, select, update

from .schema import totp_secrets, verifications, verify_services
from .writer import Tx

PENDING, APPROVED, EXPIRED, CANCELED = "pending", "approved", "expired", "canceled"

Conn = Connection | Tx


def add_service(tx: Tx, row: dict[str, Any]) -> None:
    tx.insert(verify_services, row)


def service(conn: Conn, account_id: int, sid: str) -> Any:
    return conn.execute(select(verify_services).where(
        verify_services.c.account_id == account_id, verify_services.c.sid == sid)).first()


def services(conn: Conn, account_id: int) -> Sequence[Any]:
    return conn.execute(select(verify_services).where(
        verify_services.c.account_id == account_id).order_by(verify_services.c.id)).all()


def _joined() -> Any:
    return select(*verifications.c, verify_services.c.sid.label("service_sid")).join(
        verify_services, verify_services.c.id == verifications.c.service_id)


def add_verification(tx: Tx, row: dict[str, Any]) -> None:
    tx.insert(verifications, row)


def verification(conn: Conn, account_id: int, sid: str) -> Any:
    return conn.execute(_joined().where(verifications.c.account_id == account_id,
                                        verifications.c.sid == sid)).first()


def verifications_listed(conn: Conn, account_id: int, since: int | None, limit: int,
                         offset: int) -> tuple[Sequence[Any], int]:
    where = [verifications.c.account_id == account_id]
    if since is not None:
        where.append(verifications.c.updated_at >= since)
    rows = conn.execute(_joined().where(*where).order_by(
        verifications.c.updated_at.desc(), verifications.c.id.desc())
        .limit(limit).offset(offset)).all()
    total = conn.execute(select(func.count()).select_from(verifications).where(*where)
                         ).scalar_one()
    return rows, int(total)


def pending_of(conn: Conn, account_id: int, line: str, number: str) -> Sequence[Any]:
    """The verifications the phone `number` may still text a code for on `line`."""
    return conn.execute(_joined().where(
        verifications.c.account_id == account_id, verifications.c.line == line,
        verifications.c.number == number, verifications.c.status == PENDING)
        .order_by(verifications.c.id)).all()


def overdue_of(conn: Conn, account_id: int, now: int) -> list[int]:
    """The ids of the account's verifications still pending past their expiry."""
    return list(conn.execute(select(verifications.c.id).where(
        verifications.c.account_id == account_id, verifications.c.status == PENDING,
        verifications.c.expires_at <= now)).scalars())


def end(tx: Tx, verification_id: int, status: str, now: int) -> bool:
    """End a pending verification; False if it had already ended (it never ends twice)."""
    done = tx.execute(update(verifications).where(
        verifications.c.id == verification_id, verifications.c.status == PENDING)
        .values(status=status, completed_at=now, updated_at=now)
        .returning(verifications.c.id)).first()
    return done is not None


def count_attempt(tx: Tx, verification_id: int, now: int) -> int | None:
    """One more wrong code on a pending verification: the attempts now, None if it had ended."""
    done = tx.execute(update(verifications).where(
        verifications.c.id == verification_id, verifications.c.status == PENDING)
        .values(attempts=verifications.c.attempts + 1, updated_at=now)
        .returning(verifications.c.attempts)).first()
    return None if done is None else int(done[0])


def verification_by_id(tx: Tx, verification_id: int) -> Any:
    return tx.execute(_joined().where(verifications.c.id == verification_id)).first()


# --- TOTP ------------------------------------------------------------------------------------

def add_totp(tx: Tx, row: dict[str, Any]) -> None:
    tx.insert(totp_secrets, row)


def totp(conn: Conn, account_id: int, public_id: str) -> Any:
    return conn.execute(select(totp_secrets).where(
        totp_secrets.c.account_id == account_id, totp_secrets.c.public_id == public_id)).first()


def totps(conn: Conn, account_id: int) -> Sequence[Any]:
    return conn.execute(select(totp_secrets).where(
        totp_secrets.c.account_id == account_id).order_by(totp_secrets.c.id)).all()


def delete_totp(tx: Tx, account_id: int, public_id: str) -> bool:
    done = tx.execute(delete(totp_secrets).where(
        totp_secrets.c.account_id == account_id, totp_secrets.c.public_id == public_id)
        .returning(totp_secrets.c.id)).first()
    return done is not None

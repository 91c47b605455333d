"""Every secret kept sealed (store/secret_box.py): the accounts' global webhook secrets, the
webhook endpoints' own, and TOTP secrets; the pass at start that seals what is not sealed
under the current key."""

from __future__ import annotations

from sqlalchemy import Column, Connection, Table, select, update

from .schema import accounts, totp_secrets, webhook_endpoints
from .secret_box import PREFIX, SecretBox
from .writer import Tx

SEALED: tuple[tuple[Table, Column[str]], ...] = (
    (accounts, accounts.c.webhook_secret),
    (webhook_endpoints, webhook_endpoints.c.secret),
    (totp_secrets, totp_secrets.c.secret),
)


def any_sealed(conn: Connection | Tx) -> str | None:
    """One sealed secret, if the database holds any (to check the key opens it)."""
    for _, column in SEALED:
        value = conn.execute(select(column).where(column.startswith(PREFIX)).limit(1)).scalar()
        if value is not None:
            return str(value)
    return None


def seal_again(tx: Connection | Tx, box: SecretBox) -> int:
    """Seal under the box's key every secret stored in clear (by an earlier version, or by a
    migration run without the key) and, while a key is being rotated, every one an old key
    sealed; how many were sealed."""
    sealed = 0
    for table, column in SEALED:
        query = select(table.c.id, column).where(column.is_not(None))
        if not box.rotating:
            query = query.where(~column.startswith(PREFIX))
        for row_id, value in tx.execute(query).all():
            again = box.resealed(value)
            if again is not None:
                tx.execute(update(table).where(table.c.id == row_id)
                           .values({column.name: again}))
                sealed += 1
    return sealed

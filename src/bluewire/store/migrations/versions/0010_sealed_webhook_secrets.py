"""sealed webhook secrets; deliveries name their signer; the sb-signing-secret toggle

Webhook signing secrets (each endpoint's, and the account's global one) are stored sealed
(store/secret_box.py): the columns widen to TEXT on PostgreSQL (SQLite never enforced the
length), and when the process migrating hands its box in (`config.attributes["secret_box"]`) the
secrets stored in clear are sealed here; otherwise the next start seals them (a value without
the sealed prefix keeps working meanwhile).

A delivery no longer carries a copy of its secret: `signer` says whose secret signs each attempt,
looked up when it is made. Existing rows move to the reference: a delivery with an endpoint is
signed by it; one without whose URL is its message's status_callback by the account; any other
(the history of a removed endpoint) is left unsigned, as a delivery of a removed endpoint is.

`send_secret_header` (account and endpoint, default true): whether webhooks carry the secret in
clear in `sb-signing-secret` besides the Standard Webhooks signature.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import context, op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

SEALED_COLUMNS = (("accounts", "webhook_secret"), ("webhook_endpoints", "secret"))


def upgrade() -> None:
    op.add_column('accounts', sa.Column('send_secret_header', sa.Boolean(),
                                        server_default=sa.true(), nullable=False))
    op.add_column('webhook_endpoints', sa.Column('send_secret_header', sa.Boolean(),
                                                 server_default=sa.true(), nullable=False))
    op.add_column('deliveries', sa.Column('signer', sa.String(length=16), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        for table, column in SEALED_COLUMNS:
            op.alter_column(table, column, type_=sa.Text(),
                            existing_type=sa.String(length=256))
    op.execute(
        "UPDATE deliveries SET signer = CASE "
        "WHEN endpoint_id IS NOT NULL THEN 'endpoint' "
        "WHEN EXISTS (SELECT 1 FROM messages m WHERE m.handle = deliveries.message_handle "
        "AND m.status_callback = deliveries.url) THEN 'account' "
        "ELSE NULL END, secret = NULL WHERE secret IS NOT NULL")
    box = _box()
    if box is not None:
        _rewrite(lambda value: value if value.startswith("enc:") else box.seal(value))


def downgrade() -> None:
    box = _box()
    if box is not None:
        _rewrite(box.open)
    op.execute("UPDATE deliveries SET signer = NULL")  # unsigned, rather than wrongly signed
    if op.get_bind().dialect.name == "postgresql":
        for table, column in SEALED_COLUMNS:
            op.alter_column(table, column, type_=sa.String(length=256),
                            existing_type=sa.Text())
    with op.batch_alter_table('deliveries') as batch_op:
        batch_op.drop_column('signer')
    with op.batch_alter_table('webhook_endpoints') as batch_op:
        batch_op.drop_column('send_secret_header')
    with op.batch_alter_table('accounts') as batch_op:
        batch_op.drop_column('send_secret_header')


def _box() -> Any:
    return context.config.attributes.get("secret_box")


def _rewrite(change: Any) -> None:
    bind = op.get_bind()
    for table, column in SEALED_COLUMNS:
        rows = bind.execute(sa.text(
            f"SELECT id, {column} FROM {table} WHERE {column} IS NOT NULL")).all()
        for row_id, value in rows:
            changed = change(value)
            if changed != value:
                bind.execute(sa.text(f"UPDATE {table} SET {column} = :value WHERE id = :id"),
                             {"value": changed, "id": row_id})

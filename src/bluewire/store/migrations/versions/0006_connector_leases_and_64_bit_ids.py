"""connector leases; 64-bit ids on PostgreSQL

A connector that must run in exactly one process (a line's connection to its Mac) is owned
through a row of `connector_leases`, renewed by its owner and taken over once it expires.

The tables that grow with traffic get 64-bit ids on PostgreSQL (SQLite's are 64-bit already):
2^31 events is a few months of a busy deployment.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

# (table, column, sequence of the column or None)
WIDENED = (
    ("messages", "id", "messages_id_seq"),
    ("events", "id", "events_id_seq"),
    ("deliveries", "id", "deliveries_id_seq"),
    ("delivery_attempts", "id", "delivery_attempts_id_seq"),
    ("delivery_attempts", "delivery_id", None),
    ("message_receipts", "id", "message_receipts_id_seq"),
    ("message_receipts", "message_id", None),
)


def upgrade() -> None:
    op.create_table(
        'connector_leases',
        sa.Column('name', sa.String(length=128), nullable=False),
        sa.Column('owner', sa.String(length=128), nullable=False),
        sa.Column('expires_at', sa.BigInteger(), nullable=False),
        sa.Column('acquired_at', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('name'),
    )
    if op.get_bind().dialect.name == "postgresql":
        for table, column, sequence in WIDENED:
            op.alter_column(table, column, type_=sa.BigInteger(), existing_type=sa.Integer())
            if sequence:
                op.execute(f"ALTER SEQUENCE {sequence} AS bigint")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, column, sequence in WIDENED:
            if sequence:
                op.execute(f"ALTER SEQUENCE {sequence} AS integer")
            op.alter_column(table, column, type_=sa.Integer(), existing_type=sa.BigInteger())
    op.drop_table('connector_leases')

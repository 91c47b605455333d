"""idempotency keys

A send made with an `Idempotency-Key` header keeps the key (per account), a hash of its request
and its answer here, written in the transaction that accepts its message: a repeat is answered
from this row and sends nothing. Rows older than 24 hours are ignored and deleted in batches.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'idempotency_keys',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('idempotency_key', sa.String(length=255), nullable=False),
        sa.Column('request_hash', sa.String(length=64), nullable=False),
        sa.Column('message_handle', sa.String(length=64), nullable=False),
        sa.Column('status_code', sa.Integer(), nullable=False),
        sa.Column('response', sa.Text(), nullable=False),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ux_idempotency_keys_account_key', 'idempotency_keys',
                    ['account_id', 'idempotency_key'], unique=True)
    op.create_index('ix_idempotency_keys_created', 'idempotency_keys', ['created_at'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_idempotency_keys_created', table_name='idempotency_keys')
    op.drop_index('ux_idempotency_keys_account_key', table_name='idempotency_keys')
    op.drop_table('idempotency_keys')

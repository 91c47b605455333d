"""sandbox network

The simulated phones' state moves from each process's memory into the database, so the
network outlives any process: sandbox_received holds each message a phone received, what the
phone knows of it, and its next step (deliver, read) with its due time and the lease of the
process that will do it (and how many times the network was handed it: more than once is a
double send); sandbox_typing, the last typing state each side showed the other.

Revision ID: 0018
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0015'
branch_labels = None
depends_on = None

STEPPING = sa.text("step IS NOT NULL")


def upgrade() -> None:
    op.create_table(
        'sandbox_received',
        sa.Column('handle', sa.String(length=64), nullable=False),
        sa.Column('number', sa.String(length=32), nullable=False),
        sa.Column('line', sa.String(length=32), nullable=False),
        sa.Column('group_id', sa.String(length=48), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('received_at', sa.BigInteger(), nullable=False),
        sa.Column('read_at', sa.BigInteger(), nullable=True),
        sa.Column('step', sa.String(length=16), nullable=True),
        sa.Column('due_at', sa.BigInteger(), nullable=True),
        sa.Column('claimed_until', sa.BigInteger(), nullable=True),
        sa.Column('copies', sa.Integer(), server_default=sa.text('1'), nullable=False),
        sa.PrimaryKeyConstraint('handle', 'number'),
    )
    with op.batch_alter_table('sandbox_received', schema=None) as batch_op:
        batch_op.create_index('ix_sandbox_received_phone', ['number', 'line', 'received_at'],
                              unique=False)
        batch_op.create_index('ix_sandbox_received_due', ['claimed_until'], unique=False,
                              sqlite_where=STEPPING, postgresql_where=STEPPING)
    op.create_table(
        'sandbox_typing',
        sa.Column('number', sa.String(length=32), nullable=False),
        sa.Column('line', sa.String(length=32), nullable=False),
        sa.Column('side', sa.String(length=8), nullable=False),
        sa.Column('is_typing', sa.Boolean(), nullable=False),
        sa.Column('at_ms', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('number', 'line', 'side'),
    )


def downgrade() -> None:
    op.drop_table('sandbox_typing')
    with op.batch_alter_table('sandbox_received', schema=None) as batch_op:
        batch_op.drop_index('ix_sandbox_received_due')
        batch_op.drop_index('ix_sandbox_received_phone')
    op.drop_table('sandbox_received')

"""analytics rollup

What the outbound messages of each closed hour and UTC day count (analytics_rollup), by line,
campaign, service and tag and summed over them, when the analytics first ask for them, so a window of a million messages is answered from a
few thousand rows. analytics_spans says which spans are summed; analytics_dirty, which closed
hours a write changed since (written in the write's transaction), so their spans are summed
again before they are used. Nothing is summed by this migration: the first question does it.

Revision ID: 0015
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'analytics_rollup',
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('span_start', sa.BigInteger(), nullable=False),
        sa.Column('span_ms', sa.BigInteger(), nullable=False),
        sa.Column('line', sa.String(length=32), nullable=True),
        sa.Column('campaign', sa.String(length=100), nullable=True),
        sa.Column('service', sa.String(length=16), nullable=True),
        sa.Column('tag', sa.String(length=50), nullable=True),
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in (
            'messages', 'recipients', 'sent', 'delivered', 'read', 'errored',
            'final_at_sent', 'replied')),
        sa.Column('to_deliver', sa.Text(), nullable=False),
        sa.Column('to_read', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id']),
    )
    with op.batch_alter_table('analytics_rollup', schema=None) as batch_op:
        batch_op.create_index('ix_analytics_rollup_span',
                              ['account_id', 'span_ms', 'span_start', 'tag', 'campaign',
                               'service', 'line'], unique=False)
    op.create_table(
        'analytics_spans',
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('span_ms', sa.BigInteger(), nullable=False),
        sa.Column('span_start', sa.BigInteger(), nullable=False),
        sa.Column('computed_at', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id']),
        sa.PrimaryKeyConstraint('account_id', 'span_ms', 'span_start'),
    )
    op.create_table(
        'analytics_dirty',
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('hour_start', sa.BigInteger(), nullable=False),
        sa.Column('version', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id']),
        sa.PrimaryKeyConstraint('account_id', 'hour_start'),
    )


def downgrade() -> None:
    op.drop_table('analytics_dirty')
    op.drop_table('analytics_spans')
    with op.batch_alter_table('analytics_rollup', schema=None) as batch_op:
        batch_op.drop_index('ix_analytics_rollup_span')
    op.drop_table('analytics_rollup')

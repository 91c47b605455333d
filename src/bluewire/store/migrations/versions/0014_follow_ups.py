"""follow-ups: durable, conditional actions on an outbound message

A follow-up waits `after_ms` from its parent's sending (due_at), is then claimed with a lease
(claimed_until) and evaluated against the parent's state, and ends once: fired (its message
sent, result_handle; or its notify event emitted), skipped (with a reason) or cancelled. A
partial index on the scheduled rows serves the worker's claim; others serve the list of an
account, the early endings by parent (a status change) and by contact (a reply, a STOP).
A message a follow-up sent names the message it followed up (messages.follow_up_of).

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
SCHEDULED = sa.text("state = 'scheduled'")


def upgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('follow_up_of', sa.String(length=64), nullable=True))
    op.create_table(
        'follow_ups',
        sa.Column('id', BigId, nullable=False),
        sa.Column('public_id', sa.String(length=40), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('message_id', BigId, nullable=False),
        sa.Column('message_handle', sa.String(length=64), nullable=False),
        sa.Column('line', sa.String(length=32), nullable=False),
        sa.Column('number', sa.String(length=32), nullable=False),
        sa.Column('group_id', sa.String(length=48), nullable=True),
        sa.Column('condition', sa.String(length=16), nullable=False),
        sa.Column('after_ms', sa.BigInteger(), nullable=False),
        sa.Column('due_at', sa.BigInteger(), nullable=False),
        sa.Column('action', sa.Text(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('reason', sa.String(length=32), nullable=True),
        sa.Column('claimed_until', sa.BigInteger(), nullable=True),
        sa.Column('result_handle', sa.String(length=64), nullable=True),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.Column('updated_at', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id']),
        sa.ForeignKeyConstraint(['message_id'], ['messages.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('public_id'),
    )
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.create_index('ix_follow_ups_due', ['due_at', 'id'], unique=False,
                              sqlite_where=SCHEDULED, postgresql_where=SCHEDULED)
        batch_op.create_index('ix_follow_ups_account', ['account_id', 'id'], unique=False)
        batch_op.create_index('ix_follow_ups_message', ['message_id', 'state'], unique=False)
        batch_op.create_index('ix_follow_ups_contact', ['account_id', 'line', 'number'],
                              unique=False, sqlite_where=SCHEDULED,
                              postgresql_where=SCHEDULED)


def downgrade() -> None:
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.drop_index('ix_follow_ups_contact')
        batch_op.drop_index('ix_follow_ups_message')
        batch_op.drop_index('ix_follow_ups_account')
        batch_op.drop_index('ix_follow_ups_due')
    op.drop_table('follow_ups')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_column('follow_up_of')

"""the conversation index on messages

A conversation's messages (an account, a contact's number, a line, and no group) are read as a
thread newest first, counted for the unread badge, and grouped for the console's list of
conversations. (account_id, number, line, group_id, id) answers each of these from the index
alone, in order; it also serves everything (account_id, number) served, which it replaces. On a
large PostgreSQL table the index is built while writes to messages wait: run this migration in
a quiet moment.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index('ix_messages_conversation',
                              ['account_id', 'number', 'line', 'group_id', 'id'], unique=False)
        batch_op.drop_index('ix_messages_account_number')


def downgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index('ix_messages_account_number', ['account_id', 'number'],
                              unique=False)
        batch_op.drop_index('ix_messages_conversation')

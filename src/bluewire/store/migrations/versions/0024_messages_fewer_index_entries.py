"""two message indexes fewer entries: the account's by creation time, and 1:1 messages by group

`ix_messages_account_created` (account, created_at) is the leading part of
`ix_messages_outcomes`, which answers every query it did; and a 1:1 message has no group, so its
entry in `ix_messages_group` was one more NULL that no query reads (each names a group). A 1:1
message's insert writes two index pages fewer, a group message's one.

Revision ID: 0024
Revises: 0023
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

_IN_A_GROUP = sa.text("group_id IS NOT NULL")


def upgrade() -> None:
    op.drop_index('ix_messages_account_created', table_name='messages')
    op.drop_index('ix_messages_group', table_name='messages')
    op.create_index('ix_messages_group', 'messages', ['group_id', 'id'],
                    sqlite_where=_IN_A_GROUP, postgresql_where=_IN_A_GROUP)


def downgrade() -> None:
    op.drop_index('ix_messages_group', table_name='messages')
    op.create_index('ix_messages_group', 'messages', ['group_id', 'id'])
    op.create_index('ix_messages_account_created', 'messages', ['account_id', 'created_at'])

"""campaigns and tags of outbound messages

send-message and send-group-message take a `campaign` and `tags`. The message row keeps both
(the tags as a JSON list) for its answers and payloads; message_tags holds one row per tag,
written in the message's transaction, so a tag filter or a grouping by tag reads an index
instead of every message's JSON. A partial index serves a campaign's messages in order of
creation; messages without a campaign stay out of it. `replied_at`, on an outbound message and
on a group participant's receipt, is set when the contact writes back in the conversation
within 24 hours, in the transaction that stores their message, so the analytics count replies
without searching each message's conversation. ix_messages_outcomes holds what the analytics
read of a window of messages, so their scan reads the index alone; on a large PostgreSQL table
it is built while writes to messages wait: run this migration in a quiet moment.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('campaign', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('tags', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('replied_at', sa.BigInteger(), nullable=True))
        batch_op.create_index('ix_messages_campaign', ['account_id', 'campaign', 'created_at'],
                              unique=False, sqlite_where=sa.text('campaign IS NOT NULL'),
                              postgresql_where=sa.text('campaign IS NOT NULL'))
        batch_op.create_index('ix_messages_outcomes', [
            'account_id', 'created_at', 'is_outbound', 'status', 'service', 'sent_at',
            'delivered_at', 'read_at', 'replied_at', 'campaign', 'line', 'number', 'id'],
            unique=False)
    with op.batch_alter_table('message_receipts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('replied_at', sa.BigInteger(), nullable=True))
    op.create_table(
        'message_tags',
        sa.Column('message_id', BigId, nullable=False),
        sa.Column('tag', sa.String(length=50), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id']),
        sa.ForeignKeyConstraint(['message_id'], ['messages.id']),
        sa.PrimaryKeyConstraint('message_id', 'tag'),
    )
    with op.batch_alter_table('message_tags', schema=None) as batch_op:
        batch_op.create_index('ix_message_tags_tag',
                              ['account_id', 'tag', 'created_at', 'message_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('message_tags', schema=None) as batch_op:
        batch_op.drop_index('ix_message_tags_tag')
    op.drop_table('message_tags')
    with op.batch_alter_table('message_receipts', schema=None) as batch_op:
        batch_op.drop_column('replied_at')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ix_messages_outcomes')
        batch_op.drop_index('ix_messages_campaign')
        batch_op.drop_column('replied_at')
        batch_op.drop_column('tags')
        batch_op.drop_column('campaign')

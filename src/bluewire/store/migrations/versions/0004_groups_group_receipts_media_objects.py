"""groups, group receipts, media objects

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('chat_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.String(length=48), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('line', sa.String(length=32), nullable=False),
    sa.Column('display_name', sa.Text(), nullable=True),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('chat_groups', schema=None) as batch_op:
        batch_op.create_index('ix_chat_groups_account', ['account_id', 'id'], unique=False)
        batch_op.create_index('ux_chat_groups_group_id', ['group_id'], unique=True)

    op.create_table('media_objects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('media_id', sa.String(length=48), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('source_url', sa.Text(), nullable=True),
    sa.Column('filename', sa.Text(), nullable=False),
    sa.Column('content_type', sa.String(length=128), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('storage_key', sa.Text(), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('expires_at', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('media_objects', schema=None) as batch_op:
        batch_op.create_index('ix_media_objects_account', ['account_id', 'id'], unique=False)
        batch_op.create_index('ux_media_objects_media_id', ['media_id'], unique=True)

    op.create_table('group_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_pk', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('added_at', sa.BigInteger(), nullable=False),
    sa.Column('removed_at', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['group_pk'], ['chat_groups.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('group_members', schema=None) as batch_op:
        batch_op.create_index('ix_group_members_group', ['group_pk', 'number'], unique=False)

    op.create_table('message_receipts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('delivered_at', sa.BigInteger(), nullable=True),
    sa.Column('read_at', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('message_receipts', schema=None) as batch_op:
        batch_op.create_index('ux_message_receipts_member', ['message_id', 'number'], unique=True)

    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('group_id', sa.String(length=48), nullable=True))
        batch_op.add_column(sa.Column('participants', sa.Text(), nullable=True))
        batch_op.create_index('ix_messages_group', ['group_id', 'id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ix_messages_group')
        batch_op.drop_column('participants')
        batch_op.drop_column('group_id')

    with op.batch_alter_table('message_receipts', schema=None) as batch_op:
        batch_op.drop_index('ux_message_receipts_member')

    op.drop_table('message_receipts')
    with op.batch_alter_table('group_members', schema=None) as batch_op:
        batch_op.drop_index('ix_group_members_group')

    op.drop_table('group_members')
    with op.batch_alter_table('media_objects', schema=None) as batch_op:
        batch_op.drop_index('ux_media_objects_media_id')
        batch_op.drop_index('ix_media_objects_account')

    op.drop_table('media_objects')
    with op.batch_alter_table('chat_groups', schema=None) as batch_op:
        batch_op.drop_index('ux_chat_groups_group_id')
        batch_op.drop_index('ix_chat_groups_account')

    op.drop_table('chat_groups')

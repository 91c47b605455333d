"""reactions

Tapbacks: those an account sends (POST /api/send-reaction), queued until the line's connector
has them, and those phones send to the account's messages.

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'reactions',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), primary_key=True),
        sa.Column('handle', sa.String(length=64), nullable=False, unique=True),
        sa.Column('account_id', sa.Integer(), sa.ForeignKey('accounts.id'), nullable=False),
        sa.Column('line', sa.String(length=32), nullable=False),
        sa.Column('number', sa.String(length=32), nullable=False),
        sa.Column('group_id', sa.String(length=64), nullable=True),
        sa.Column('message_handle', sa.String(length=64), nullable=False),
        sa.Column('part_index', sa.Integer(), nullable=False),
        sa.Column('reaction', sa.String(length=16), nullable=False),
        sa.Column('removed', sa.Boolean(), nullable=False),
        sa.Column('is_outbound', sa.Boolean(), nullable=False),
        sa.Column('state', sa.String(length=8), nullable=False),
        sa.Column('due_at', sa.BigInteger(), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False, server_default=sa.text('0')),
        sa.Column('error_message', sa.Text(), nullable=True),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
    )
    op.create_index('ix_reactions_due', 'reactions', ['state', 'due_at'])
    op.create_index('ix_reactions_conversation', 'reactions',
                    ['account_id', 'line', 'number', 'id'])
    op.create_index('ix_reactions_message', 'reactions', ['message_handle'])


def downgrade() -> None:
    op.drop_index('ix_reactions_message', table_name='reactions')
    op.drop_index('ix_reactions_conversation', table_name='reactions')
    op.drop_index('ix_reactions_due', table_name='reactions')
    op.drop_table('reactions')

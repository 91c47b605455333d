"""console sessions

The web console (/console) signs in with an API key pair and keeps a server-side session: the
cookie holds a random token, this table its hash, the account and key it belongs to, the
session's CSRF token and when it was last used (for idle expiry).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'console_sessions',
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('key_id', sa.String(length=128), nullable=False),
        sa.Column('csrf_token', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.Column('last_seen_at', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id']),
        sa.PrimaryKeyConstraint('token_hash'),
    )
    op.create_index('ix_console_sessions_account_id', 'console_sessions', ['account_id'],
                    unique=False)
    op.create_index('ix_console_sessions_last_seen_at', 'console_sessions', ['last_seen_at'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_console_sessions_last_seen_at', table_name='console_sessions')
    op.drop_index('ix_console_sessions_account_id', table_name='console_sessions')
    op.drop_table('console_sessions')

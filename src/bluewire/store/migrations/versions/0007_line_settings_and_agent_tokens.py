"""line settings; agent tokens

A line served by a BlueBubbles server or a Mac needs settings of its own (the server's URL and
password). A Mac's agent authenticates with a token that serves only its lines; the token is
stored hashed, as API secrets are.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('settings', sa.Text(), nullable=True))  # JSON object
    op.create_table(
        'agent_tokens',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_id', sa.String(length=64), nullable=False),
        sa.Column('secret_hash', sa.String(length=256), nullable=False),
        sa.Column('lines', sa.Text(), nullable=False),  # JSON list of E.164 numbers
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.Column('revoked_at', sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_id'),
    )


def downgrade() -> None:
    op.drop_table('agent_tokens')
    with op.batch_alter_table('lines', schema=None) as batch_op:
        batch_op.drop_column('settings')

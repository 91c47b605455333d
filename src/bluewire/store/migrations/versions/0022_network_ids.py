"""network ids

The id a network gave one of our messages (a BlueBubbles server's message guid), kept so that
what the network says of the message later reaches it from any process, after a restart too.

Revision ID: 0022
Revises: 0021
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'network_ids',
        sa.Column('line', sa.String(length=32), primary_key=True),
        sa.Column('network_id', sa.String(length=64), primary_key=True),
        sa.Column('handle', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
    )
    op.create_index('ix_network_ids_handle', 'network_ids', ['handle'])


def downgrade() -> None:
    op.drop_index('ix_network_ids_handle', table_name='network_ids')
    op.drop_table('network_ids')

"""first contacts

Each send to a contact that was new on its line, counted against the line's new-contact limits
(per rolling hour and per day), written in the transaction that accepts the send.

Revision ID: 0016
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'first_contacts',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('line', sa.String(length=32), nullable=False),
        sa.Column('number', sa.String(length=32), nullable=False),
        sa.Column('counted_at', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_first_contacts_line', 'first_contacts', ['line', 'counted_at'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_first_contacts_line', table_name='first_contacts')
    op.drop_table('first_contacts')

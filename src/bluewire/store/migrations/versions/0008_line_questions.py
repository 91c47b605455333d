"""line questions

A question for a Mac's agent (is this number on iMessage?) can reach any gateway process, but
the agent is connected to one: the process holding its line's lease. The asking process writes
the question here, the serving process writes the answer beside it, and the asker deletes the
row once it has read it.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'line_questions',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('line', sa.String(length=32), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('answer', sa.Text(), nullable=True),
        sa.Column('asked_at', sa.BigInteger(), nullable=False),
        sa.Column('answered_at', sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_line_questions_line', 'line_questions', ['line'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_line_questions_line', table_name='line_questions')
    op.drop_table('line_questions')

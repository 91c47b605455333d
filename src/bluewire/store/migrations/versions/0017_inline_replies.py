"""inline replies

A message may answer another of its conversation inline (`reply_to` on send-message and
send-group-message; a phone's reply to a message): the handle of the message it answers, and
the part of it (its text or an attachment).

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('messages') as batch:
        batch.add_column(sa.Column('reply_to', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('reply_to_part', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('messages') as batch:
        batch.drop_column('reply_to_part')
        batch.drop_column('reply_to')

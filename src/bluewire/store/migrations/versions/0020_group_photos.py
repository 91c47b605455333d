"""group photos

A group chat may have a photo (POST /api/v2/groups/{group_id}/photo): its guid (the id of the
media object kept of it) and the URL it is downloaded from.

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('chat_groups') as batch:
        batch.add_column(sa.Column('photo_guid', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('photo_url', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('chat_groups') as batch:
        batch.drop_column('photo_url')
        batch.drop_column('photo_guid')

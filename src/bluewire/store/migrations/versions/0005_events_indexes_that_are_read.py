"""events: keep only the indexes something reads

Every event row paid for three index entries; the feed reads by primary key and replay by
(account_id, occurred_at), so the other two only slowed each write.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_account_id')
        batch_op.drop_index('ux_events_public_id')


def downgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index('ux_events_public_id', ['public_id'], unique=True)
        batch_op.create_index('ix_events_account_id', ['account_id', 'id'], unique=False)

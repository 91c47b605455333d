"""the endpoint index of deliveries leaves status callbacks out

A status callback's delivery has no endpoint; every one was an entry in the index by endpoint,
which every query of it filters on an endpoint. Left out, each of their inserts writes one
index page fewer (four a message with a status callback).

Revision ID: 0023
Revises: 0022
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

_HAS_ENDPOINT = sa.text("endpoint_id IS NOT NULL")


def upgrade() -> None:
    op.drop_index('ix_deliveries_endpoint', table_name='deliveries')
    op.create_index('ix_deliveries_endpoint', 'deliveries', ['endpoint_id', 'id'],
                    sqlite_where=_HAS_ENDPOINT, postgresql_where=_HAS_ENDPOINT)


def downgrade() -> None:
    op.drop_index('ix_deliveries_endpoint', table_name='deliveries')
    op.create_index('ix_deliveries_endpoint', 'deliveries', ['endpoint_id', 'id'])

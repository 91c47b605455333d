"""contacts, read receipts, auto mark-read

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('contacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.String(length=48), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('first_name', sa.Text(), nullable=True),
    sa.Column('last_name', sa.Text(), nullable=True),
    sa.Column('company_name', sa.Text(), nullable=True),
    sa.Column('assigned_to_email', sa.Text(), nullable=True),
    sa.Column('sendblue_number', sa.String(length=32), nullable=True),
    sa.Column('custom_variables', sa.Text(), nullable=True),
    sa.Column('tags', sa.Text(), nullable=True),
    sa.Column('opted_out', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('verified', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.create_index('ix_contacts_account_created', ['account_id', 'created_at'], unique=False)
        batch_op.create_index('ix_contacts_number', ['number'], unique=False)
        batch_op.create_index('ux_contacts_account_number', ['account_id', 'number'], unique=True)
        batch_op.create_index('ux_contacts_contact_id', ['contact_id'], unique=True)

    op.create_table('read_receipts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('line', sa.String(length=32), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('mode', sa.String(length=8), nullable=False),
    sa.Column('message_handle', sa.String(length=64), nullable=True),
    sa.Column('sent_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('read_receipts', schema=None) as batch_op:
        batch_op.create_index('ix_read_receipts_conversation', ['account_id', 'line', 'number', 'id'], unique=False)

    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('auto_mark_read', sa.Boolean(), server_default=sa.false(), nullable=False))

    # Everyone an account has written to is its contact (as on Sendblue).
    op.execute(
        "INSERT INTO contacts (contact_id, account_id, number, sendblue_number, opted_out, "
        "verified, created_at, updated_at) "
        "SELECT 'ct_' || CAST(MIN(id) AS VARCHAR(20)), account_id, number, MIN(line), "
        "false, false, MIN(created_at), MIN(created_at) "
        "FROM messages WHERE is_outbound = true AND account_id IS NOT NULL "
        "GROUP BY account_id, number"
    )



def downgrade() -> None:
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_column('auto_mark_read')

    with op.batch_alter_table('read_receipts', schema=None) as batch_op:
        batch_op.drop_index('ix_read_receipts_conversation')

    op.drop_table('read_receipts')
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_index('ux_contacts_contact_id')
        batch_op.drop_index('ux_contacts_account_number')
        batch_op.drop_index('ix_contacts_number')
        batch_op.drop_index('ix_contacts_account_created')

    op.drop_table('contacts')

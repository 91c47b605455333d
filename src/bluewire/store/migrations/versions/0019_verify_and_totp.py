"""verify and totp

Verify services and their verifications (an inverted one-time code a phone texts to a line;
only an HMAC of the code is kept, under a per-row salt), and TOTP secrets, sealed at rest as
webhook secrets are (store/secret_box.py).

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    op.create_table(
        'verify_services',
        sa.Column('id', BigId, nullable=False),
        sa.Column('sid', sa.String(length=40), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('friendly_name', sa.String(length=64), nullable=False),
        sa.Column('code_length', sa.Integer(), nullable=False),
        sa.Column('ttl_seconds', sa.Integer(), nullable=False),
        sa.Column('max_attempts', sa.Integer(), nullable=False),
        sa.Column('line', sa.String(length=32), nullable=True),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.Column('updated_at', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('sid'),
    )
    with op.batch_alter_table('verify_services', schema=None) as batch_op:
        batch_op.create_index('ix_verify_services_account', ['account_id', 'id'], unique=False)
    op.create_table(
        'verifications',
        sa.Column('id', BigId, nullable=False),
        sa.Column('sid', sa.String(length=40), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('service_id', BigId, nullable=False),
        sa.Column('line', sa.String(length=32), nullable=False),
        sa.Column('number', sa.String(length=32), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('code_salt', sa.String(length=32), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('max_attempts', sa.Integer(), nullable=False),
        sa.Column('expires_at', sa.BigInteger(), nullable=False),
        sa.Column('completed_at', sa.BigInteger(), nullable=True),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.Column('updated_at', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id']),
        sa.ForeignKeyConstraint(['service_id'], ['verify_services.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('sid'),
    )
    with op.batch_alter_table('verifications', schema=None) as batch_op:
        batch_op.create_index('ix_verifications_account', ['account_id', 'updated_at', 'id'],
                              unique=False)
        batch_op.create_index('ix_verifications_pending', ['account_id', 'line', 'number'],
                              unique=False, sqlite_where=PENDING, postgresql_where=PENDING)
    op.create_table(
        'totp_secrets',
        sa.Column('id', BigId, nullable=False),
        sa.Column('public_id', sa.String(length=40), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('label', sa.String(length=256), nullable=False),
        sa.Column('issuer', sa.String(length=256), nullable=True),
        sa.Column('algorithm', sa.String(length=8), nullable=False),
        sa.Column('digits', sa.Integer(), nullable=False),
        sa.Column('period', sa.Integer(), nullable=False),
        sa.Column('secret', sa.Text(), nullable=False),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('public_id'),
    )
    with op.batch_alter_table('totp_secrets', schema=None) as batch_op:
        batch_op.create_index('ix_totp_secrets_account', ['account_id', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('totp_secrets', schema=None) as batch_op:
        batch_op.drop_index('ix_totp_secrets_account')
    op.drop_table('totp_secrets')
    with op.batch_alter_table('verifications', schema=None) as batch_op:
        batch_op.drop_index('ix_verifications_pending')
        batch_op.drop_index('ix_verifications_account')
    op.drop_table('verifications')
    with op.batch_alter_table('verify_services', schema=None) as batch_op:
        batch_op.drop_index('ix_verify_services_account')
    op.drop_table('verify_services')

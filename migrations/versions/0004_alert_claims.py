"""alerts.claimed_by: who holds an alert's lease, so a dead holder's claims are released

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 16:30:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('alerts') as batch:
        batch.add_column(sa.Column('claimed_by', sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('alerts') as batch:
        batch.drop_column('claimed_by')

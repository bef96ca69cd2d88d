"""stage of each document action (public inspection / published)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 16:20:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Rows written before public inspection was read all came from published XML.
    with op.batch_alter_table('document_actions') as batch:
        batch.add_column(
            sa.Column('stage', sa.String(length=32), server_default='published', nullable=False)
        )
        batch.add_column(sa.Column('staged_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('document_actions') as batch:
        batch.drop_column('staged_at')
        batch.drop_column('stage')

"""entry_versions: indexes for a list as of a date (its sort order, and its snapshot spans)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 21:00:00
"""

from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        'ix_entry_versions_listing', 'entry_versions', ['source', 'list_code', 'name', 'key'],
        unique=False,
    )
    op.create_index(
        'ix_entry_versions_span', 'entry_versions',
        ['source', 'valid_from_snapshot', 'valid_to_snapshot'], unique=False,
    )


def downgrade() -> None:
    op.drop_index('ix_entry_versions_span', table_name='entry_versions')
    op.drop_index('ix_entry_versions_listing', table_name='entry_versions')

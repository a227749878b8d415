"""exchange: saved column mappings (import layouts)

A village's own workbook whose columns a person mapped once is recognised by
its header's shape the next time. Idempotent: an existing table is left alone.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 15:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if 'import_layout' in sa.inspect(op.get_bind()).get_table_names():
        return
    op.create_table(
        'import_layout',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('fingerprint', sa.Text(), nullable=False),
        sa.Column('entity', sa.String(length=64), nullable=False),
        sa.Column('columns', sa.Text(), nullable=False),
        sa.Column('village_id', sa.Integer(), nullable=True),
        sa.Column('username', sa.String(length=64), nullable=False),
        sa.Column('saved_at', sa.DateTime(), nullable=False),
        sa.Column('used_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_import_layout')),
    )
    op.create_index(op.f('ix_import_layout_village_id'), 'import_layout', ['village_id'], unique=False)


def downgrade() -> None:
    op.drop_table('import_layout')

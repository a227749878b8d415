"""county: townships' reported copies, the county's decisions; evaluation entries decided by the county

Idempotent: tables and columns that exist are left alone.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 21:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def _tables() -> set[str]:
    return set(sa.inspect(op.get_bind()).get_table_names())


def upgrade() -> None:
    tables = _tables()
    if 'county_copy' not in tables:
        op.create_table(
            'county_copy',
            sa.Column('id', sa.Integer(), nullable=False),
            sa.Column('township_code', sa.String(length=12), nullable=False),
            sa.Column('sheet', sa.String(length=32), nullable=False),
            sa.Column('row_key', sa.String(length=120), nullable=False),
            sa.Column('period', sa.String(length=40), nullable=False),
            sa.Column('data', sa.Text(), nullable=False),
            sa.PrimaryKeyConstraint('id', name=op.f('pk_county_copy')),
            sa.UniqueConstraint('township_code', 'sheet', 'row_key',
                                name=op.f('uq_county_copy_township_code_sheet_row_key')))
        op.create_index('ix_county_copy_period', 'county_copy', ['sheet', 'period'], unique=False)
    if 'county_decision' not in tables:
        op.create_table(
            'county_decision',
            sa.Column('id', sa.Integer(), nullable=False),
            sa.Column('township_code', sa.String(length=12), nullable=False),
            sa.Column('round_uuid', sa.String(length=36), nullable=False),
            sa.Column('target_uuid', sa.String(length=36), nullable=False),
            sa.Column('stage', sa.String(length=32), nullable=False),
            sa.Column('verdict', sa.String(length=8), nullable=False),
            sa.Column('negative', sa.String(length=32), nullable=True),
            sa.Column('note', sa.String(length=400), nullable=True),
            sa.Column('comment', sa.String(length=400), nullable=True),
            sa.Column('decided_by', sa.String(length=64), nullable=False),
            sa.Column('decided_at', sa.DateTime(), nullable=False),
            sa.Column('uuid', sa.String(length=36), nullable=False),
            sa.Column('created_at', sa.DateTime(), nullable=False),
            sa.Column('updated_at', sa.DateTime(), nullable=False),
            sa.PrimaryKeyConstraint('id', name=op.f('pk_county_decision')),
            sa.UniqueConstraint('target_uuid', 'stage', name=op.f('uq_county_decision_target_uuid_stage')),
            sa.UniqueConstraint('uuid', name=op.f('uq_county_decision_uuid')))
        op.create_index(op.f('ix_county_decision_township_code'), 'county_decision', ['township_code'])
        op.create_index(op.f('ix_county_decision_round_uuid'), 'county_decision', ['round_uuid'])
    if 'county_decision' not in {c['name'] for c in sa.inspect(op.get_bind()).get_columns('eval_entry')}:
        with op.batch_alter_table('eval_entry', schema=None) as batch_op:
            batch_op.add_column(sa.Column('county_decision', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('eval_entry', schema=None) as batch_op:
        batch_op.drop_column('county_decision')
    op.drop_table('county_decision')
    op.drop_table('county_copy')

"""year close: points final grades, the points year close and the township's year-close record

年度结转 writes each member's final total and grade once; certificates and the
Q4 return read them. Idempotent: existing tables are left alone.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 18:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def _synced() -> list[sa.Column]:
    return [sa.Column('uuid', sa.String(length=36), nullable=False),
            sa.Column('created_at', sa.DateTime(), nullable=False),
            sa.Column('updated_at', sa.DateTime(), nullable=False)]


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if 'point_year_close' not in existing:
        op.create_table(
            'point_year_close',
            sa.Column('id', sa.Integer(), nullable=False),
            sa.Column('year', sa.Integer(), nullable=False),
            sa.Column('closed_on', sa.Date(), nullable=False),
            sa.Column('closed_by', sa.String(length=64), nullable=False),
            sa.Column('rule_set_id', sa.Integer(), nullable=True),
            *_synced(),
            sa.ForeignKeyConstraint(['rule_set_id'], ['point_rule_set.id'],
                                    name=op.f('fk_point_year_close_rule_set_id_point_rule_set')),
            sa.PrimaryKeyConstraint('id', name=op.f('pk_point_year_close')),
            sa.UniqueConstraint('uuid', name=op.f('uq_point_year_close_uuid')),
            sa.UniqueConstraint('year', name=op.f('uq_point_year_close_year')),
        )
    if 'point_year_grade' not in existing:
        op.create_table(
            'point_year_grade',
            sa.Column('id', sa.Integer(), nullable=False),
            sa.Column('year', sa.Integer(), nullable=False),
            sa.Column('party_member_id', sa.Integer(), nullable=False),
            sa.Column('village_id', sa.Integer(), nullable=True),
            sa.Column('total_tenths', sa.Integer(), nullable=False),
            sa.Column('grade', sa.String(length=8), nullable=False),
            *_synced(),
            sa.ForeignKeyConstraint(['party_member_id'], ['party_member.id'],
                                    name=op.f('fk_point_year_grade_party_member_id_party_member')),
            sa.ForeignKeyConstraint(['village_id'], ['village.id'],
                                    name=op.f('fk_point_year_grade_village_id_village')),
            sa.PrimaryKeyConstraint('id', name=op.f('pk_point_year_grade')),
            sa.UniqueConstraint('uuid', name=op.f('uq_point_year_grade_uuid')),
            sa.UniqueConstraint('year', 'party_member_id', name=op.f('uq_point_year_grade_year_party_member_id')),
        )
        op.create_index(op.f('ix_point_year_grade_year'), 'point_year_grade', ['year'], unique=False)
        op.create_index(op.f('ix_point_year_grade_party_member_id'), 'point_year_grade', ['party_member_id'],
                        unique=False)
        op.create_index(op.f('ix_point_year_grade_village_id'), 'point_year_grade', ['village_id'], unique=False)
    if 'year_close' not in existing:
        op.create_table(
            'year_close',
            sa.Column('id', sa.Integer(), nullable=False),
            sa.Column('year', sa.Integer(), nullable=False),
            sa.Column('closed_on', sa.Date(), nullable=False),
            sa.Column('closed_by', sa.String(length=64), nullable=False),
            sa.Column('summary', sa.Text(), nullable=False),
            *_synced(),
            sa.PrimaryKeyConstraint('id', name=op.f('pk_year_close')),
            sa.UniqueConstraint('uuid', name=op.f('uq_year_close_uuid')),
            sa.UniqueConstraint('year', name=op.f('uq_year_close_year')),
        )


def downgrade() -> None:
    op.drop_table('year_close')
    op.drop_table('point_year_grade')
    op.drop_table('point_year_close')

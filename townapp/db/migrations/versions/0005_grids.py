"""grid management: grid tree, roster, household assignments, monthly assessment

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('grid_month',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('township_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('month', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('locked', sa.Boolean(), nullable=False),
    sa.Column('submitted_by', sa.String(length=64), nullable=True),
    sa.Column('approved_by', sa.String(length=64), nullable=True),
    sa.Column('approved_at', sa.DateTime(), nullable=True),
    sa.Column('unlocked_by', sa.String(length=64), nullable=True),
    sa.Column('scheme_json', sa.Text(), nullable=True),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['township_id'], ['township.id'], name=op.f('fk_grid_month_township_id_township')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grid_month')),
    sa.UniqueConstraint('township_id', 'year', 'month', name=op.f('uq_grid_month_township_id_year_month')),
    sa.UniqueConstraint('uuid', name=op.f('uq_grid_month_uuid'))
    )
    with op.batch_alter_table('grid_month', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grid_month_township_id'), ['township_id'], unique=False)

    op.create_table('grid',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('township_id', sa.Integer(), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('level', sa.String(length=8), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('scope', sa.String(length=400), nullable=True),
    sa.Column('party_group_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('retired_on', sa.Date(), nullable=True),
    sa.Column('note', sa.String(length=400), nullable=True),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['grid.id'], name=op.f('fk_grid_parent_id_grid')),
    sa.ForeignKeyConstraint(['party_group_id'], ['party_branch.id'], name=op.f('fk_grid_party_group_id_party_branch'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['township_id'], ['township.id'], name=op.f('fk_grid_township_id_township')),
    sa.ForeignKeyConstraint(['village_id'], ['village.id'], name=op.f('fk_grid_village_id_village')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grid')),
    sa.UniqueConstraint('township_id', 'code', name=op.f('uq_grid_township_id_code')),
    sa.UniqueConstraint('uuid', name=op.f('uq_grid_uuid'))
    )
    with op.batch_alter_table('grid', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grid_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_grid_township_id'), ['township_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_grid_village_id'), ['village_id'], unique=False)

    op.create_table('grid_assignment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=False),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['grid_id'], ['grid.id'], name=op.f('fk_grid_assignment_grid_id_grid')),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_grid_assignment_household_id_household'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grid_assignment')),
    sa.UniqueConstraint('uuid', name=op.f('uq_grid_assignment_uuid'))
    )
    with op.batch_alter_table('grid_assignment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grid_assignment_grid_id'), ['grid_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_grid_assignment_household_id'), ['household_id'], unique=False)

    op.create_table('grid_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=False),
    sa.Column('changed_on', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('detail', sa.String(length=400), nullable=True),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['grid_id'], ['grid.id'], name=op.f('fk_grid_change_grid_id_grid'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grid_change'))
    )
    with op.batch_alter_table('grid_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grid_change_grid_id'), ['grid_id'], unique=False)

    op.create_table('grid_member',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=8), nullable=False),
    sa.Column('duty', sa.String(length=4), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=False),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['grid_id'], ['grid.id'], name=op.f('fk_grid_member_grid_id_grid')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_grid_member_person_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grid_member')),
    sa.UniqueConstraint('uuid', name=op.f('uq_grid_member_uuid'))
    )
    with op.batch_alter_table('grid_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grid_member_grid_id'), ['grid_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_grid_member_person_id'), ['person_id'], unique=False)

    op.create_table('grid_assessment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('month_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('scores', sa.Text(), nullable=False),
    sa.Column('deduction', sa.Integer(), nullable=False),
    sa.Column('deduction_reason', sa.String(length=200), nullable=True),
    sa.Column('total', sa.Integer(), nullable=True),
    sa.Column('performance_fen', sa.BigInteger(), nullable=True),
    sa.Column('allowance_fen', sa.BigInteger(), nullable=True),
    sa.Column('subsidy_fen', sa.BigInteger(), nullable=True),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['grid_member.id'], name=op.f('fk_grid_assessment_member_id_grid_member')),
    sa.ForeignKeyConstraint(['month_id'], ['grid_month.id'], name=op.f('fk_grid_assessment_month_id_grid_month'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grid_assessment')),
    sa.UniqueConstraint('month_id', 'member_id', name=op.f('uq_grid_assessment_month_id_member_id')),
    sa.UniqueConstraint('uuid', name=op.f('uq_grid_assessment_uuid'))
    )
    with op.batch_alter_table('grid_assessment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grid_assessment_member_id'), ['member_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_grid_assessment_month_id'), ['month_id'], unique=False)

    op.create_table('grid_star',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('month_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.Column('deeds', sa.String(length=1000), nullable=False),
    sa.Column('chosen_by', sa.String(length=64), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['grid_member.id'], name=op.f('fk_grid_star_member_id_grid_member')),
    sa.ForeignKeyConstraint(['month_id'], ['grid_month.id'], name=op.f('fk_grid_star_month_id_grid_month'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['village_id'], ['village.id'], name=op.f('fk_grid_star_village_id_village')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grid_star')),
    sa.UniqueConstraint('month_id', 'member_id', name=op.f('uq_grid_star_month_id_member_id')),
    sa.UniqueConstraint('uuid', name=op.f('uq_grid_star_uuid'))
    )
    with op.batch_alter_table('grid_star', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grid_star_member_id'), ['member_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_grid_star_month_id'), ['month_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_grid_star_village_id'), ['village_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('grid_star', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grid_star_village_id'))
        batch_op.drop_index(batch_op.f('ix_grid_star_month_id'))
        batch_op.drop_index(batch_op.f('ix_grid_star_member_id'))

    op.drop_table('grid_star')
    with op.batch_alter_table('grid_assessment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grid_assessment_month_id'))
        batch_op.drop_index(batch_op.f('ix_grid_assessment_member_id'))

    op.drop_table('grid_assessment')
    with op.batch_alter_table('grid_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grid_member_person_id'))
        batch_op.drop_index(batch_op.f('ix_grid_member_grid_id'))

    op.drop_table('grid_member')
    with op.batch_alter_table('grid_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grid_change_grid_id'))

    op.drop_table('grid_change')
    with op.batch_alter_table('grid_assignment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grid_assignment_household_id'))
        batch_op.drop_index(batch_op.f('ix_grid_assignment_grid_id'))

    op.drop_table('grid_assignment')
    with op.batch_alter_table('grid', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grid_village_id'))
        batch_op.drop_index(batch_op.f('ix_grid_township_id'))
        batch_op.drop_index(batch_op.f('ix_grid_parent_id'))

    op.drop_table('grid')
    with op.batch_alter_table('grid_month', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grid_month_township_id'))

    op.drop_table('grid_month')

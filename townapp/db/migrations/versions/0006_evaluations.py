"""evaluations: scheme versions, rounds, targets, stage entries, objections, round events

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 11:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('eval_scheme',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=48), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('target', sa.String(length=24), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('definition', sa.Text(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=True),
    sa.Column('source_digest', sa.String(length=64), nullable=True),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_eval_scheme')),
    sa.UniqueConstraint('key', 'version', name=op.f('uq_eval_scheme_key_version')),
    sa.UniqueConstraint('uuid', name=op.f('uq_eval_scheme_uuid'))
    )
    op.create_table('eval_round',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scheme_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('period_no', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('locked', sa.Boolean(), nullable=False),
    sa.Column('bodies', sa.String(length=200), nullable=True),
    sa.Column('publicity_start', sa.Date(), nullable=True),
    sa.Column('publicity_end', sa.Date(), nullable=True),
    sa.Column('finalised_on', sa.Date(), nullable=True),
    sa.Column('finalised_by', sa.String(length=64), nullable=True),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['scheme_id'], ['eval_scheme.id'], name=op.f('fk_eval_round_scheme_id_eval_scheme')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_eval_round')),
    sa.UniqueConstraint('uuid', name=op.f('uq_eval_round_uuid'))
    )
    with op.batch_alter_table('eval_round', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_eval_round_scheme_id'), ['scheme_id'], unique=False)

    op.create_table('eval_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('detail', sa.String(length=400), nullable=False),
    sa.ForeignKeyConstraint(['round_id'], ['eval_round.id'], name=op.f('fk_eval_event_round_id_eval_round'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_eval_event'))
    )
    with op.batch_alter_table('eval_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_eval_event_round_id'), ['round_id'], unique=False)

    op.create_table('eval_round_village',
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['round_id'], ['eval_round.id'], name=op.f('fk_eval_round_village_round_id_eval_round'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['village_id'], ['village.id'], name=op.f('fk_eval_round_village_village_id_village'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('round_id', 'village_id', name=op.f('pk_eval_round_village'))
    )
    with op.batch_alter_table('eval_round_village', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_eval_round_village_village_id'), ['village_id'], unique=False)

    op.create_table('eval_target',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.Column('ref_id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=True),
    sa.Column('inputs', sa.Text(), nullable=False),
    sa.Column('rollup', sa.Numeric(precision=7, scale=1), nullable=True),
    sa.Column('barred', sa.String(length=200), nullable=True),
    sa.Column('level', sa.String(length=16), nullable=True),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('measure', sa.Numeric(precision=7, scale=1), nullable=True),
    sa.Column('vetoed', sa.Boolean(), nullable=False),
    sa.Column('reasons', sa.String(length=400), nullable=True),
    sa.Column('flags', sa.String(length=200), nullable=True),
    sa.Column('decided_stage', sa.String(length=32), nullable=True),
    sa.Column('revoked_on', sa.Date(), nullable=True),
    sa.Column('revoke_reason', sa.String(length=400), nullable=True),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['round_id'], ['eval_round.id'], name=op.f('fk_eval_target_round_id_eval_round'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['village_id'], ['village.id'], name=op.f('fk_eval_target_village_id_village')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_eval_target')),
    sa.UniqueConstraint('round_id', 'ref_id', name=op.f('uq_eval_target_round_id_ref_id')),
    sa.UniqueConstraint('uuid', name=op.f('uq_eval_target_uuid'))
    )
    with op.batch_alter_table('eval_target', schema=None) as batch_op:
        batch_op.create_index('ix_eval_target_ref', ['ref_id', 'round_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_eval_target_village_id'), ['village_id'], unique=False)

    op.create_table('eval_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=32), nullable=False),
    sa.Column('scores', sa.Text(), nullable=False),
    sa.Column('negatives', sa.Text(), nullable=False),
    sa.Column('comment', sa.String(length=400), nullable=True),
    sa.Column('level', sa.String(length=16), nullable=True),
    sa.Column('measure', sa.Numeric(precision=7, scale=1), nullable=True),
    sa.Column('entered_by', sa.String(length=64), nullable=True),
    sa.Column('entered_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['target_id'], ['eval_target.id'], name=op.f('fk_eval_entry_target_id_eval_target'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_eval_entry')),
    sa.UniqueConstraint('target_id', 'stage', name=op.f('uq_eval_entry_target_id_stage'))
    )
    op.create_table('eval_objection',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=True),
    sa.Column('raised_on', sa.Date(), nullable=False),
    sa.Column('raised_by', sa.String(length=64), nullable=False),
    sa.Column('content', sa.String(length=400), nullable=False),
    sa.Column('handled_on', sa.Date(), nullable=True),
    sa.Column('handling', sa.String(length=400), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.ForeignKeyConstraint(['round_id'], ['eval_round.id'], name=op.f('fk_eval_objection_round_id_eval_round'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['target_id'], ['eval_target.id'], name=op.f('fk_eval_objection_target_id_eval_target'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_eval_objection'))
    )
    with op.batch_alter_table('eval_objection', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_eval_objection_round_id'), ['round_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_eval_objection_target_id'), ['target_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('eval_objection', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_eval_objection_target_id'))
        batch_op.drop_index(batch_op.f('ix_eval_objection_round_id'))

    op.drop_table('eval_objection')
    op.drop_table('eval_entry')
    with op.batch_alter_table('eval_target', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_eval_target_village_id'))
        batch_op.drop_index('ix_eval_target_ref')

    op.drop_table('eval_target')
    with op.batch_alter_table('eval_round_village', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_eval_round_village_village_id'))

    op.drop_table('eval_round_village')
    with op.batch_alter_table('eval_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_eval_event_round_id'))

    op.drop_table('eval_event')
    with op.batch_alter_table('eval_round', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_eval_round_scheme_id'))

    op.drop_table('eval_round')
    op.drop_table('eval_scheme')

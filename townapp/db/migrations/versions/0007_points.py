"""points: rule set versions and rules, records with events and 公示 batches, balances and the points store

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('point_rule_set',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('definition', sa.Text(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=True),
    sa.Column('note', sa.String(length=400), nullable=True),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_point_rule_set')),
    sa.UniqueConstraint('uuid', name=op.f('uq_point_rule_set_uuid')),
    sa.UniqueConstraint('year', 'version', name=op.f('uq_point_rule_set_year_version'))
    )
    op.create_table('point_store_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('points_tenths', sa.Integer(), nullable=False),
    sa.Column('stock', sa.Integer(), nullable=False),
    sa.Column('pickup_point', sa.String(length=100), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('stock >= 0', name=op.f('ck_point_store_item_stock_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_point_store_item')),
    sa.UniqueConstraint('name', name=op.f('uq_point_store_item_name')),
    sa.UniqueConstraint('uuid', name=op.f('uq_point_store_item_uuid'))
    )
    op.create_table('point_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rule_set_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('direction', sa.String(length=4), nullable=False),
    sa.Column('min_tenths', sa.Integer(), nullable=False),
    sa.Column('max_tenths', sa.Integer(), nullable=False),
    sa.Column('review', sa.String(length=4), nullable=False),
    sa.Column('evidence', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['rule_set_id'], ['point_rule_set.id'], name=op.f('fk_point_rule_rule_set_id_point_rule_set'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_point_rule')),
    sa.UniqueConstraint('rule_set_id', 'code', name=op.f('uq_point_rule_rule_set_id_code'))
    )
    with op.batch_alter_table('point_rule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_point_rule_rule_set_id'), ['rule_set_id'], unique=False)

    op.create_table('point_publicity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['village_id'], ['village.id'], name=op.f('fk_point_publicity_village_id_village')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_point_publicity')),
    sa.UniqueConstraint('uuid', name=op.f('uq_point_publicity_uuid'))
    )
    with op.batch_alter_table('point_publicity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_point_publicity_village_id'), ['village_id'], unique=False)

    op.create_table('point_account',
    sa.Column('party_member_id', sa.Integer(), nullable=False),
    sa.Column('balance_tenths', sa.Integer(), nullable=False),
    sa.Column('earned_tenths', sa.Integer(), nullable=False),
    sa.Column('spent_tenths', sa.Integer(), nullable=False),
    sa.CheckConstraint('balance_tenths >= 0', name=op.f('ck_point_account_balance_not_negative')),
    sa.ForeignKeyConstraint(['party_member_id'], ['party_member.id'], name=op.f('fk_point_account_party_member_id_party_member')),
    sa.PrimaryKeyConstraint('party_member_id', name=op.f('pk_point_account'))
    )
    op.create_table('point_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('party_member_id', sa.Integer(), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=True),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('rule_set_id', sa.Integer(), nullable=False),
    sa.Column('rule_id', sa.Integer(), nullable=True),
    sa.Column('rule_code', sa.String(length=16), nullable=False),
    sa.Column('rule_name', sa.String(length=100), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('category_name', sa.String(length=64), nullable=False),
    sa.Column('direction', sa.String(length=4), nullable=False),
    sa.Column('rule_points', sa.String(length=16), nullable=False),
    sa.Column('review_level', sa.String(length=4), nullable=False),
    sa.Column('points_tenths', sa.Integer(), nullable=False),
    sa.Column('note', sa.String(length=400), nullable=True),
    sa.Column('evidence', sa.String(length=400), nullable=True),
    sa.Column('meeting_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('entered_by', sa.String(length=64), nullable=False),
    sa.Column('village_reviewed_by', sa.String(length=64), nullable=True),
    sa.Column('village_reviewed_on', sa.Date(), nullable=True),
    sa.Column('township_reviewed_by', sa.String(length=64), nullable=True),
    sa.Column('township_reviewed_on', sa.Date(), nullable=True),
    sa.Column('reject_reason', sa.String(length=400), nullable=True),
    sa.Column('resubmissions', sa.Integer(), nullable=False),
    sa.Column('publicity_id', sa.Integer(), nullable=True),
    sa.Column('effective_on', sa.Date(), nullable=True),
    sa.Column('reverses_id', sa.Integer(), nullable=True),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['party_member_id'], ['party_member.id'], name=op.f('fk_point_record_party_member_id_party_member')),
    sa.ForeignKeyConstraint(['publicity_id'], ['point_publicity.id'], name=op.f('fk_point_record_publicity_id_point_publicity')),
    sa.ForeignKeyConstraint(['reverses_id'], ['point_record.id'], name=op.f('fk_point_record_reverses_id_point_record')),
    sa.ForeignKeyConstraint(['rule_id'], ['point_rule.id'], name=op.f('fk_point_record_rule_id_point_rule')),
    sa.ForeignKeyConstraint(['rule_set_id'], ['point_rule_set.id'], name=op.f('fk_point_record_rule_set_id_point_rule_set')),
    sa.ForeignKeyConstraint(['village_id'], ['village.id'], name=op.f('fk_point_record_village_id_village')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_point_record')),
    sa.UniqueConstraint('reverses_id', name=op.f('uq_point_record_reverses_id')),
    sa.UniqueConstraint('uuid', name=op.f('uq_point_record_uuid'))
    )
    with op.batch_alter_table('point_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_point_record_meeting_id'), ['meeting_id'], unique=False)
        batch_op.create_index('ix_point_record_member_year', ['party_member_id', 'year'], unique=False)
        batch_op.create_index(batch_op.f('ix_point_record_publicity_id'), ['publicity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_point_record_rule_set_id'), ['rule_set_id'], unique=False)
        batch_op.create_index('ix_point_record_village_status', ['village_id', 'status'], unique=False)

    op.create_table('point_redemption',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('party_member_id', sa.Integer(), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=True),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('item_name', sa.String(length=100), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('points_tenths', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=4), nullable=False),
    sa.Column('redeemed_at', sa.DateTime(), nullable=False),
    sa.Column('picked_up_at', sa.DateTime(), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(), nullable=True),
    sa.Column('cancel_reason', sa.String(length=200), nullable=True),
    sa.Column('handled_by', sa.String(length=64), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['point_store_item.id'], name=op.f('fk_point_redemption_item_id_point_store_item')),
    sa.ForeignKeyConstraint(['party_member_id'], ['party_member.id'], name=op.f('fk_point_redemption_party_member_id_party_member')),
    sa.ForeignKeyConstraint(['village_id'], ['village.id'], name=op.f('fk_point_redemption_village_id_village')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_point_redemption')),
    sa.UniqueConstraint('number', name=op.f('uq_point_redemption_number')),
    sa.UniqueConstraint('uuid', name=op.f('uq_point_redemption_uuid'))
    )
    with op.batch_alter_table('point_redemption', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_point_redemption_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_point_redemption_party_member_id'), ['party_member_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_point_redemption_village_id'), ['village_id'], unique=False)

    op.create_table('point_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('detail', sa.String(length=400), nullable=True),
    sa.ForeignKeyConstraint(['record_id'], ['point_record.id'], name=op.f('fk_point_event_record_id_point_record'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_point_event'))
    )
    with op.batch_alter_table('point_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_point_event_record_id'), ['record_id'], unique=False)

    op.create_table('point_ledger',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('party_member_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('amount_tenths', sa.Integer(), nullable=False),
    sa.Column('balance_after', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('record_id', sa.Integer(), nullable=True),
    sa.Column('redemption_id', sa.Integer(), nullable=True),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['party_member_id'], ['party_member.id'], name=op.f('fk_point_ledger_party_member_id_party_member')),
    sa.ForeignKeyConstraint(['record_id'], ['point_record.id'], name=op.f('fk_point_ledger_record_id_point_record')),
    sa.ForeignKeyConstraint(['redemption_id'], ['point_redemption.id'], name=op.f('fk_point_ledger_redemption_id_point_redemption')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_point_ledger'))
    )
    with op.batch_alter_table('point_ledger', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_point_ledger_party_member_id'), ['party_member_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('point_ledger', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_point_ledger_party_member_id'))

    op.drop_table('point_ledger')
    with op.batch_alter_table('point_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_point_event_record_id'))

    op.drop_table('point_event')
    with op.batch_alter_table('point_redemption', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_point_redemption_village_id'))
        batch_op.drop_index(batch_op.f('ix_point_redemption_party_member_id'))
        batch_op.drop_index(batch_op.f('ix_point_redemption_item_id'))

    op.drop_table('point_redemption')
    with op.batch_alter_table('point_record', schema=None) as batch_op:
        batch_op.drop_index('ix_point_record_village_status')
        batch_op.drop_index(batch_op.f('ix_point_record_rule_set_id'))
        batch_op.drop_index(batch_op.f('ix_point_record_publicity_id'))
        batch_op.drop_index('ix_point_record_member_year')
        batch_op.drop_index(batch_op.f('ix_point_record_meeting_id'))

    op.drop_table('point_record')
    op.drop_table('point_account')
    with op.batch_alter_table('point_publicity', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_point_publicity_village_id'))

    op.drop_table('point_publicity')
    with op.batch_alter_table('point_rule', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_point_rule_rule_set_id'))

    op.drop_table('point_rule')
    op.drop_table('point_store_item')
    op.drop_table('point_rule_set')

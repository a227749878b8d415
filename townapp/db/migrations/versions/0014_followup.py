"""followup: 整改跟踪 items proposed from 定级 results, their problems and status history

二星及以下 → 整顿, 三/四星 → 问题清单, 头雁 建议调整名单 → 调整建议 (rules in
resources/followup/rules.json). Idempotent: existing tables are left alone.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 18:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def _synced(table: str) -> list:
    return [sa.Column('uuid', sa.String(length=36), nullable=False),
            sa.Column('created_at', sa.DateTime(), nullable=False),
            sa.Column('updated_at', sa.DateTime(), nullable=False),
            sa.UniqueConstraint('uuid', name=op.f(f'uq_{table}_uuid'))]


def upgrade() -> None:
    present = set(sa.inspect(op.get_bind()).get_table_names())
    if 'followup_item' not in present:
        op.create_table(
            'followup_item',
            sa.Column('id', sa.Integer(), nullable=False),
            sa.Column('village_id', sa.Integer(), nullable=False),
            sa.Column('year', sa.Integer(), nullable=False),
            sa.Column('period_no', sa.Integer(), nullable=False),
            sa.Column('rule_id', sa.String(length=40), nullable=False),
            sa.Column('kind', sa.String(length=8), nullable=False),
            sa.Column('scheme_key', sa.String(length=64), nullable=True),
            sa.Column('round_id', sa.Integer(), nullable=True),
            sa.Column('level', sa.String(length=16), nullable=True),
            sa.Column('source', sa.String(length=200), nullable=True),
            sa.Column('ref_id', sa.Integer(), nullable=False),
            sa.Column('subject', sa.String(length=100), nullable=False),
            sa.Column('title', sa.String(length=200), nullable=False),
            sa.Column('content', sa.Text(), nullable=True),
            sa.Column('proposed_on', sa.Date(), nullable=False),
            sa.Column('deadline', sa.Date(), nullable=True),
            sa.Column('status', sa.String(length=8), nullable=False),
            sa.Column('accepted_on', sa.Date(), nullable=True),
            sa.Column('closed_on', sa.Date(), nullable=True),
            sa.Column('result_note', sa.String(length=400), nullable=True),
            sa.Column('progress_note', sa.String(length=400), nullable=True),
            sa.Column('rectification_id', sa.Integer(), nullable=True),
            *_synced('followup_item'),
            sa.ForeignKeyConstraint(['village_id'], ['village.id'], name=op.f('fk_followup_item_village_id_village'),
                                    ondelete='CASCADE'),
            sa.PrimaryKeyConstraint('id', name=op.f('pk_followup_item')),
            sa.UniqueConstraint('rule_id', 'village_id', 'year', 'period_no', 'ref_id',
                                name=op.f('uq_followup_item_rule_id_village_id_year_period_no_ref_id')),
        )
        op.create_index(op.f('ix_followup_item_village_id'), 'followup_item', ['village_id'], unique=False)
        op.create_index(op.f('ix_followup_item_round_id'), 'followup_item', ['round_id'], unique=False)
    if 'followup_problem' not in present:
        op.create_table(
            'followup_problem',
            sa.Column('id', sa.Integer(), nullable=False),
            sa.Column('item_id', sa.Integer(), nullable=False),
            sa.Column('seq', sa.Integer(), nullable=False),
            sa.Column('content', sa.String(length=400), nullable=False),
            sa.Column('deadline', sa.Date(), nullable=True),
            sa.Column('status', sa.String(length=8), nullable=False),
            sa.Column('closed_on', sa.Date(), nullable=True),
            sa.Column('note', sa.String(length=400), nullable=True),
            *_synced('followup_problem'),
            sa.ForeignKeyConstraint(['item_id'], ['followup_item.id'],
                                    name=op.f('fk_followup_problem_item_id_followup_item'), ondelete='CASCADE'),
            sa.PrimaryKeyConstraint('id', name=op.f('pk_followup_problem')),
        )
        op.create_index(op.f('ix_followup_problem_item_id'), 'followup_problem', ['item_id'], unique=False)
    if 'followup_event' not in present:
        op.create_table(
            'followup_event',
            sa.Column('id', sa.Integer(), nullable=False),
            sa.Column('item_id', sa.Integer(), nullable=False),
            sa.Column('at', sa.DateTime(), nullable=False),
            sa.Column('username', sa.String(length=64), nullable=False),
            sa.Column('from_status', sa.String(length=8), nullable=True),
            sa.Column('to_status', sa.String(length=8), nullable=False),
            sa.Column('note', sa.String(length=400), nullable=True),
            sa.ForeignKeyConstraint(['item_id'], ['followup_item.id'],
                                    name=op.f('fk_followup_event_item_id_followup_item'), ondelete='CASCADE'),
            sa.PrimaryKeyConstraint('id', name=op.f('pk_followup_event')),
        )
        op.create_index(op.f('ix_followup_event_item_id'), 'followup_event', ['item_id'], unique=False)


def downgrade() -> None:
    op.drop_table('followup_event')
    op.drop_table('followup_problem')
    op.drop_table('followup_item')

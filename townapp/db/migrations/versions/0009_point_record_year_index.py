"""points: a covering index for the year's effective records (totals, quarterly returns)

A county's quarterly return read 1.5 million wide point records to find the
year's quarter of a million effective ones; the index holds just the columns
the totals read. Idempotent: a database that already has it is left alone.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 12:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

NAME = 'ix_point_record_year_effective'
# as townapp.points.models.YEAR_EFFECTIVE_COLUMNS at this revision (a migration never imports today's models)
COLUMNS = ['year', 'status', 'effective_on', 'party_member_id', 'village_id', 'occurred_on', 'id', 'rule_code',
           'category', 'points_tenths', 'reverses_id']


def upgrade() -> None:
    if NAME not in {index['name'] for index in sa.inspect(op.get_bind()).get_indexes('point_record')}:
        op.create_index(NAME, 'point_record', COLUMNS, unique=False)


def downgrade() -> None:
    op.drop_index(NAME, table_name='point_record')

"""dates known only to the month: a ``month_dates`` mark per row

Rosters give 入党时间 1978.02, 出生年月 1965.03, 任职时间 2021.03: a month, no day.
Such a date is stored as the 1st of its month and the row's ``month_dates``
names the columns that hold only a month (e.g. ``confirmed_on,joined_on``;
NULL: every date of the row is a full date), so no day is ever invented and a
fuller date is never overwritten by a coarser one (core.dates.merge_date).
Idempotent: a table that already has the column is left alone.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 15:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

TABLES = ('party_member', 'archive_term', 'archive_cadre', 'archive_first_secretary', 'archive_talent')


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    for table in TABLES:
        if 'month_dates' not in {column['name'] for column in inspector.get_columns(table)}:
            op.add_column(table, sa.Column('month_dates', sa.String(length=64), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('month_dates')

"""archives: where a star, creation level or 书记 考核等级 came from (written by 定级)

The archive records the provenance of the fields a finalised 定级 wrote, so it
shows them as 来自评星定级 and refuses a differing hand edit without reading
the evaluations' tables. Idempotent: existing columns are left alone.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 18:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def _columns(table: str) -> set[str]:
    return {c['name'] for c in sa.inspect(op.get_bind()).get_columns(table)}


def upgrade() -> None:
    if 'rated' not in _columns('archive_year'):
        with op.batch_alter_table('archive_year', schema=None) as batch_op:
            batch_op.add_column(sa.Column('rated', sa.Text(), nullable=True))
    if 'grade_source' not in _columns('archive_pay'):
        with op.batch_alter_table('archive_pay', schema=None) as batch_op:
            batch_op.add_column(sa.Column('grade_source', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('archive_pay', schema=None) as batch_op:
        batch_op.drop_column('grade_source')
    with op.batch_alter_table('archive_year', schema=None) as batch_op:
        batch_op.drop_column('rated')

"""audit: which import batch a change came with

An imported change is logged per record and field like a dialog's, and says
which import (``import_batch.id``) brought it, so a record's history answers
"who changed this, and from which file". No foreign key: the history outlives
the batch row. Idempotent: a database that already has the column is left alone.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 13:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    columns = {column['name'] for column in sa.inspect(op.get_bind()).get_columns('audit_entry')}
    if 'batch_id' not in columns:
        op.add_column('audit_entry', sa.Column('batch_id', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_column('batch_id')

"""outputs: why a certificate was printed again (补打的原因)

A single 补打 is logged with the reason the clerk gave (证书破损, 遗失 …).
Idempotent: an existing column is left alone.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 01:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if 'reason' not in {c['name'] for c in sa.inspect(op.get_bind()).get_columns('certificate_print')}:
        with op.batch_alter_table('certificate_print', schema=None) as batch_op:
            batch_op.add_column(sa.Column('reason', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('certificate_print', schema=None) as batch_op:
        batch_op.drop_column('reason')

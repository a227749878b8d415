"""Alembic environment: runs on the connection handed over in config.attributes."""

from alembic import context

from townapp.schema import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - only `alembic` on the command line gets here
    raise RuntimeError("townapp runs its migrations through townapp.db.migrate.upgrade()")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True,
                  compare_type=True)
with context.begin_transaction():
    context.run_migrations()

"""Database layer: engine and pragmas, unit of work, audit hook, migrations, backup."""

from townapp.db.engine import Database, open_database

__all__ = ["Database", "open_database"]

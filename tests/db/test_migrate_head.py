"""Opening a database already at the head revision needs no Alembic (a tenth of a second at every start).

Stories: the head revision read from the migration file names is Alembic's head, every script's
revision is its file number (so the names are one source of truth), and opening a current
database in a fresh process never imports Alembic, while an older one is still migrated by it
(tests/db/test_migrations.py).
"""

from __future__ import annotations

import ast
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from alembic.script import ScriptDirectory

from townapp.db import Database, migrate

ROOT = Path(__file__).resolve().parents[2]


def test_the_head_derived_from_file_names_is_alembics_head() -> None:
    # GIVEN the shipped migration scripts WHEN the head is derived from their numbered file names
    derived = migrate.head_revision()
    # THEN it is the head Alembic computes from the scripts' revision chain
    scripts = ScriptDirectory.from_config(migrate.alembic_config())
    assert derived == scripts.get_current_head()
    # AND every script's revision is its file's number, each revising the one numbered before it
    numbers = migrate.revisions_on_disk()
    assert set(numbers) == {rev.revision for rev in scripts.walk_revisions()}
    chain = {}
    for path in (migrate.MIGRATIONS_DIR / "versions").glob("*.py"):
        assigned = {node.targets[0].id: ast.literal_eval(node.value) for node in ast.parse(path.read_text("utf-8")).body
                    if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)}
        assert assigned["revision"] == path.name.split("_", 1)[0], path.name
        chain[assigned["revision"]] = assigned["down_revision"]
    assert [chain[number] for number in numbers] == [None, *numbers[:-1]]


def test_stored_revision_is_read_without_alembic(empty_db: Database, tmp_path: Path) -> None:
    assert migrate.stored_revision(empty_db.path) == migrate.head_revision()
    assert migrate.current_revision(empty_db.engine) == migrate.head_revision()
    assert not migrate.needs_upgrade(empty_db.path)
    # a database no migration has run on has no revision and needs one
    blank = tmp_path / "blank.db"
    sqlite3.connect(blank).close()
    assert migrate.stored_revision(blank) is None and migrate.needs_upgrade(blank)


PROBE = r"""
import json, sys
from townapp.db import open_database
db = open_database(sys.argv[1])
db.dispose()
print(json.dumps(sorted(m for m in sys.modules if m == "alembic" or m.startswith("alembic."))))
"""


def test_opening_a_current_database_does_not_import_alembic(empty_db: Database) -> None:
    # GIVEN a database at the head revision
    path = empty_db.path
    empty_db.dispose()
    # WHEN a fresh process opens it
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    result = subprocess.run([sys.executable, "-c", PROBE, str(path)], capture_output=True, text=True, env=env,
                            timeout=120, cwd=ROOT)
    # THEN Alembic was never imported
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []

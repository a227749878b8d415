"""All consistency checks in one list (composition root, like schema.py)."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.exc import DatabaseError

from townapp.archives.checks import archive_checks
from townapp.core.errors import CheckReport
from townapp.db import Database
from townapp.db.checks import database_checks, file_problems
from townapp.grids.checks import grid_checks
from townapp.points.checks import points_checks
from townapp.registry.checks import registry_checks

log = logging.getLogger(__name__)

Check = Callable[[Database, CheckReport, dict], None]
CHECKS: tuple[Check, ...] = (database_checks, registry_checks, archive_checks, grid_checks, points_checks)


def run_checks(db: Database) -> tuple[CheckReport, dict]:
    """Run every check; returns the report and facts (integrity, revision, counts)."""
    report, facts = CheckReport(), {}
    for check in CHECKS:
        check(db, report, facts)
    return report, facts


def check_database_file(path: Path | str) -> tuple[CheckReport, dict]:
    """``townapp check``: the file as it is — damaged, foreign, empty or healthy — without changing a byte.

    The file's own problems (empty, not SQLite, cut short, damaged pages, foreign
    schema, triggers or views we never create, a newer revision) come first; only
    a file that passes them is opened (read-only, never migrated) for the
    consistency checks. A read that fails on damage is reported, never raised.
    """
    from townapp.db.engine import open_readonly
    from townapp.schema import metadata

    report, facts = CheckReport(), {}
    problems = file_problems(path, metadata.tables.keys())
    if problems:
        facts["integrity"] = problems[:5]
        report.errors.extend(problems)
        return report, facts
    facts["integrity"] = "ok"
    db = open_readonly(path)
    try:
        for check in CHECKS:
            check(db, report, facts)
    except (sqlite3.DatabaseError, DatabaseError) as exc:
        detail = str(getattr(exc, "orig", exc)).splitlines()[0]
        report.errors.append(f"读取数据时出错，数据库可能已损坏：{detail}")
    except (ValueError, TypeError, UnicodeError) as exc:  # a damaged value (a date that is not one …)
        log.exception("检查时读取到无法解析的值：%s", path)
        report.errors.append(f"数据库中有无法读取的值，可能已损坏（{type(exc).__name__}：{str(exc)[:120]}）")
    finally:
        db.dispose()
    return report, facts

"""All consistency checks in one list (composition root, like schema.py)."""

from __future__ import annotations

from collections.abc import Callable

from townapp.archives.checks import archive_checks
from townapp.core.errors import CheckReport
from townapp.db import Database
from townapp.db.checks import database_checks
from townapp.grids.checks import grid_checks
from townapp.points.checks import points_checks
from townapp.registry.checks import registry_checks

Check = Callable[[Database, CheckReport, dict], None]
CHECKS: tuple[Check, ...] = (database_checks, registry_checks, archive_checks, grid_checks, points_checks)


def run_checks(db: Database) -> tuple[CheckReport, dict]:
    """Run every check; returns the report and facts (integrity, revision, counts)."""
    report, facts = CheckReport(), {}
    for check in CHECKS:
        check(db, report, facts)
    return report, facts

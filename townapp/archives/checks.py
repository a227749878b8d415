"""Archive rules for ``townapp check``: rule errors fail it (naming village, year and rule), warnings are listed."""

from __future__ import annotations

from townapp.archives.service import ArchiveService
from townapp.core.errors import CheckReport
from townapp.db import Database

_LISTED = 30


def archive_checks(db: Database, report: CheckReport, facts: dict) -> None:
    violations = ArchiveService(db).violations()
    errors = [v.describe() for v in violations if v.severity == "error"]
    warnings = [v.describe() for v in violations if v.severity == "warning"]
    for target, messages in ((report.errors, errors), (report.warnings, warnings)):
        target.extend(messages[:_LISTED])
        if len(messages) > _LISTED:
            target.append(f"……一村一档同类问题共 {len(messages)} 处")
    facts["archive_rule_errors"] = len(errors)
    facts["archive_rule_warnings"] = len(warnings)

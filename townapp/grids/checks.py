"""Grid coverage for ``townapp check``: gaps are warnings (a village may be mid-reorganisation), never errors."""

from __future__ import annotations

from townapp.core.errors import CheckReport
from townapp.db import Database
from townapp.grids.scheme import structure
from townapp.grids.service import GridService


def grid_checks(db: Database, report: CheckReport, facts: dict) -> None:
    service = GridService(db)
    coverage = service.coverage().township
    facts["grid_households_unassigned"] = coverage.unassigned
    if sum(coverage.grids.values()) == 0:
        if coverage.households:  # one line, not one per village, until grids are set up at all
            report.warnings.append(f"尚未建立网格：全部 {coverage.households} 户都未划入微网格")
        return
    warnings = service.warnings()
    listed = structure().coverage_listed
    report.warnings.extend(warnings[:listed])
    if len(warnings) > listed:
        report.warnings.append(f"……网格覆盖同类问题共 {len(warnings)} 处")
    facts["grids_without_member"] = len(coverage.grids_without_member)
    facts["grids_without_head"] = len(coverage.grids_without_head)

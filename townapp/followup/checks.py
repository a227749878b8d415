"""整改跟踪 for ``townapp check``: a 定级 result the rules turn into follow-up work but nobody proposed (from
the first year followed up), a 拟办 a re-rating no longer supports, an accepted 整顿 whose archive case is gone, items past their deadline. All warnings: proposing is the
township's step (the 整改跟踪 page, or the year close), not a broken record."""

from __future__ import annotations

import datetime as dt

from townapp.core.errors import CheckReport
from townapp.db import Database
from townapp.followup.service import FollowUpService

LISTED = 10


def followup_checks(db: Database, report: CheckReport, facts: dict, as_of: dt.date | None = None) -> None:
    from townapp.archives.service import ArchiveService
    from townapp.evaluations.service import EvaluationService

    service = FollowUpService(db)
    schemes = {rule.scheme for rule in service.rules}
    years = sorted({r.year for r in EvaluationService(db).rounds() if r.locked and r.scheme_key in schemes})
    # from the first year the township followed up (the year close proposes), or else the latest rated
    # year: rounds entered for the years before the township used 整改跟踪 are history, not work left undone
    followed = [row.year for row in service.items()]
    years = [y for y in years if y >= min(followed, default=years[-1] if years else 0)]
    missing: list[str] = []
    stale: list[str] = []
    for year in years:
        dry = service.propose(year, as_of, dry_run=True)
        missing += dry.new_items
        stale += dry.withdrawn
    report.warnings.extend(f"重新定级后拟办事项已不适用：{line}（请在“整改跟踪”页按评定结果生成拟办，将自动撤回）"
                           for line in stale[:LISTED])
    report.warnings.extend(f"定级结果尚未转为整改跟踪：{line}（请在“整改跟踪”页按评定结果生成拟办）"
                           for line in missing[:LISTED])
    if len(missing) > LISTED:
        report.warnings.append(f"……尚未转为整改跟踪的定级结果共 {len(missing)} 项")
    archives = ArchiveService(db)
    for row in service.items(kind="整顿", as_of=as_of):
        detail = service.item(row.id, as_of)
        if detail.rectification_id and all(c.id != detail.rectification_id
                                           for c in archives.rectifications(row.village_id)):
            report.warnings.append(f"{row.village}：{row.title}已采纳，但一村一档中的软弱涣散认定记录已被删除")
    overdue = service.overdue_count(as_of)
    if overdue:
        report.warnings.append(f"整改跟踪：{overdue} 项已过整改期限（见“整改跟踪”页，红色）")
    facts["followup_unproposed"] = len(missing)
    facts["followup_withdrawable"] = len(stale)
    facts["followup_overdue"] = overdue

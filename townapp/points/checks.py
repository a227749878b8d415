"""Points consistency for ``townapp check``: balances equal their ledgers, nothing negative, reversals sound."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from townapp.core.errors import CheckReport
from townapp.db import Database
from townapp.points import models as p

LISTED = 10


def points_checks(db: Database, report: CheckReport, facts: dict) -> None:
    with db.reader() as s:
        facts["point_records"] = s.scalar(select(func.count()).select_from(p.PointRecord)) or 0
        ledger = dict(s.execute(select(p.PointLedger.party_member_id, func.sum(p.PointLedger.amount_tenths))
                                .group_by(p.PointLedger.party_member_id)).all())
        accounts = dict(s.execute(select(p.PointAccount.party_member_id, p.PointAccount.balance_tenths)).all())
        wrong = [pm for pm in set(ledger) | set(accounts) if (ledger.get(pm) or 0) != (accounts.get(pm) or 0)]
        for pm in sorted(wrong)[:LISTED]:
            report.errors.append(f"党员积分：党员（编号 {pm}）的可兑换积分余额与兑换流水合计不一致")
        if len(wrong) > LISTED:
            report.errors.append(f"……可兑换积分余额与流水不一致共 {len(wrong)} 人")
        negative = s.scalar(select(func.count()).select_from(p.PointAccount).where(p.PointAccount.balance_tenths < 0))
        if negative:
            report.errors.append(f"党员积分：{negative} 人的可兑换积分为负数")
        if s.scalar(select(func.count()).select_from(p.StoreItem).where(p.StoreItem.stock < 0)):
            report.errors.append("积分超市：有商品库存为负数")
        original = aliased(p.PointRecord)
        bad = s.scalar(select(func.count()).select_from(p.PointRecord)
                       .join(original, original.id == p.PointRecord.reverses_id)
                       .where((original.status != "生效") | (original.points_tenths != -p.PointRecord.points_tenths)))
        if bad:
            report.errors.append(f"党员积分：{bad} 条冲正记录与原记录不对应（原记录未生效或分值不相反）")
        unreasoned = s.scalar(select(func.count()).select_from(p.PointRecord)
                              .where(p.PointRecord.status == "驳回", p.PointRecord.reject_reason.is_(None)))
        if unreasoned:
            report.warnings.append(f"党员积分：{unreasoned} 条驳回记录没有驳回理由")
        facts["point_records_waiting"] = s.scalar(select(func.count()).select_from(p.PointRecord).where(
            p.PointRecord.status.in_(("待村审", "待乡镇审", "待公示")))) or 0

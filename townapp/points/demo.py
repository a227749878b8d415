"""Points demo data for one township: last year and this year to date, consistent with the rules and caps.

For last year and this year up to the as-of date every taking-part member
(not 免考) gets the records the meeting ledger implies (出席 →
organisational-life points, 缺席 → a base deduction) plus study, duty,
volunteering and occasional pioneer, award and deduction records drawn
within each rule's range and period caps.

Last year's fourth quarter — the one whose 公示 runs into January and decides
the year's grades — and every quarter whose 公示 is not over by the as-of
date go in as entered (待村审) and are then taken through PointsService as the
village and the township do it: 村审 and 乡镇审 (approve; a few rejected and
resubmitted), 公示 per village (publish) and, once it is over, 生效
(close_publicity, which credits the balance), and a few reversals. The
current month's entries and a fortnight's backlog wait in the queues. Earlier
quarters, long closed, are written as the effective records they became
(their quarterly 公示 batch with them), for speed: a township's year is
100,000 records. Balances come from the same caps engine the service uses; a
stocked store has redemptions (some picked up, some waiting, a few cancelled
with refunds).

The meeting ledger is read with the demo's own connection: the build runs in
one uncommitted transaction, which the archives service (its own session)
cannot see.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select

from townapp.archives import models as a
from townapp.core.actor import DEMO_ACTOR
from townapp.core.points import format_points
from townapp.points import models as p
from townapp.points.dto import RecordInput
from townapp.points.rules import (
    Occurrence,
    Rule,
    balance_credit,
    default_rule_set,
    parse_points,
    settings,
    tally,
)
from townapp.points.service import PointsService
from townapp.registry import models as m

if TYPE_CHECKING:
    from townapp.db import Database
    from townapp.demokit import TownshipJob

REJECT_REASONS = ("佐证材料不全，请补充照片", "日期与活动记录不符", "分值超出实际情况，请核实", "事项说明不清楚")
REVERSE_REASONS = ("误录为其他党员的活动", "同一活动重复录入", "经核实不符合加分条件")

# (rule, share of members who ever do it, occurrences a year at most); meeting rules come from the ledger
ACTIVITY = (("XX01", 0.85, 8), ("XX02", 0.75, 12), ("XX03", 0.4, 3), ("SG01", 0.75, 12), ("SG02", 0.3, 3),
            ("ZY01", 0.75, 8), ("ZY02", 0.2, 3), ("XF01", 0.04, 1), ("XF02", 0.12, 3), ("XF03", 0.06, 1),
            ("XF04", 0.08, 2), ("JL01", 0.03, 1), ("JL03", 0.06, 1), ("JC02", 0.04, 2), ("JC03", 0.05, 2),
            ("KF01", 0.015, 1), ("KF04", 0.01, 1))


def build_township(job: TownshipJob) -> dict[str, int]:
    return _Builder(job).run()


def _quarter(day: dt.date) -> int:
    return (day.month - 1) // 3 + 1


def _publicity_dates(year: int, quarter: int) -> tuple[dt.date, dt.date]:
    """A quarter's 公示: from the 5th of the following month for five days; 生效 the day after."""
    starts = dt.date(year + (quarter == 4), 1 if quarter == 4 else quarter * 3 + 1, 5)
    return starts, starts + dt.timedelta(days=4)


class _Builder:
    def __init__(self, job: TownshipJob) -> None:
        self.job = job
        self.rng = job.rng
        self.rules = default_rule_set()
        self.rows: dict[type, list[dict[str, Any]]] = defaultdict(list)
        self.rule_sets: dict[int, int] = {}
        self.rule_ids: dict[tuple[int, str], int] = {}
        self.publicity: dict[tuple[int, int, int], int] = {}  # (village, year, quarter) → batch id
        self.user = "演示录入员"
        self.last_year, self.this_year = job.as_of.year - 1, job.as_of.year
        # quarters taken through the service: last year's Q4 and any whose 公示 is not over by the as-of date
        self.entered_quarters = {(self.last_year, 4)} | {
            (self.this_year, q) for q in range(1, 5) if _publicity_dates(self.this_year, q)[1] >= job.as_of}
        self.entered: list[dict[str, Any]] = []  # rows entered (待村审) for the review course, with their plan
        self.last_close: dict[int, dt.date] = {}

    def add(self, model: type, row: dict[str, Any], synced: bool = True) -> dict[str, Any]:
        if "id" not in row and model is not p.PointAccount:
            row["id"] = self.job.keys.take(model.__table__)
        if synced:
            row.update(self.job.synced())
        self.rows[model].append(row)
        return row

    # ----- the township -----------------------------------------------------------------------------
    def run(self) -> dict[str, int]:
        for year in (self.last_year, self.this_year):
            self._rule_set(year)
        villages = self.job.facts["registry"].villages
        occurrences: dict[tuple[int, int], list[Occurrence]] = defaultdict(list)
        for index, village in enumerate(villages):
            self.job.report(index / max(len(villages), 1) * 0.8, f"正在生成 {village.name} 的党员积分…")
            self._village(village, occurrences)
        self._balances(occurrences)
        self._store()
        counts = {}
        order = [p.PointRuleSet, p.PointRule, p.PointPublicity, p.PointRecord, p.PointEvent, p.PointAccount,
                 p.StoreItem, p.Redemption, p.PointLedger]
        for model in order:
            rows = self.rows.get(model, [])
            keys = {key for row in rows for key in row}
            rows = [{key: row.get(key) for key in keys} for row in rows]
            if model is p.PointRecord:
                # reversals point at records inserted before them
                rows.sort(key=lambda r: (r.get("reverses_id") is not None, r["id"]))
            for start in range(0, len(rows), 5000):
                self.job.conn.execute(insert(model), rows[start:start + 5000])
            counts[model.__tablename__] = len(rows)
        self.job.report(1.0, f"{self.job.township.name} 的党员积分已生成")
        self.job.then(_Review(self.job.as_of, random.Random(self.rng.random()), self.entered).run)
        return counts

    def _rule_set(self, year: int) -> None:
        rules = self.rules
        stored = self.job.conn.execute(select(p.PointRuleSet.id).where(p.PointRuleSet.year == year,
                                                                      p.PointRuleSet.version == 1)).scalar()
        if stored is not None:  # county scale: one rule set per year for the whole database
            self.rule_sets[year] = stored
            for code, rid in self.job.conn.execute(select(p.PointRule.code, p.PointRule.id)
                                                   .where(p.PointRule.rule_set_id == stored)):
                self.rule_ids[(year, code)] = rid
            return
        row = self.add(p.PointRuleSet, dict(year=year, version=1, name=rules.name, definition=rules.canonical,
                                            digest=rules.digest, source="resources/points/default_rules.json",
                                            note="演示数据"))
        self.rule_sets[year] = row["id"]
        for rule in rules.rules:
            rid = self.add(p.PointRule, dict(rule_set_id=row["id"], code=rule.code, name=rule.name,
                                             category=rule.category, direction=rule.direction,
                                             min_tenths=rule.min_points, max_tenths=rule.max_points,
                                             review=rule.review, evidence=rule.evidence), synced=False)["id"]
            self.rule_ids[(year, rule.code)] = rid

    # ----- one village ------------------------------------------------------------------------------
    def _village(self, village: Any, occurrences: dict[tuple[int, int], list[Occurrence]]) -> None:
        conn = self.job.conn
        members = {pm: category for pm, category in conn.execute(
            select(m.PartyMember.id, m.PartyMember.points_category)
            .join(m.Person, m.Person.id == m.PartyMember.person_id)
            .where(m.Person.village_id == village.id, m.PartyMember.status == "正常"))}
        taking_part = {pm: c for pm, c in members.items() if c != settings()["excluded_category"]}
        start, end = dt.date(self.last_year, 1, 1), self.job.as_of - dt.timedelta(days=1)
        meetings = conn.execute(
            select(a.ArchiveMeeting.id, a.ArchiveMeeting.held_on, a.ArchiveMeeting.kind, a.ArchiveMeeting.topic,
                   a.ArchiveAttendance.party_member_id, a.ArchiveAttendance.status)
            .join(a.ArchiveAttendance, a.ArchiveAttendance.meeting_id == a.ArchiveMeeting.id)
            .where(a.ArchiveMeeting.village_id == village.id, a.ArchiveMeeting.held_on >= start,
                   a.ArchiveMeeting.held_on <= end)
            .order_by(a.ArchiveMeeting.held_on, a.ArchiveMeeting.id, a.ArchiveAttendance.id)).all()
        for meeting_id, held, kind, topic, pm, status in meetings:
            category = taking_part.get(pm)
            if category is None or status == "请假":
                continue
            rule = self.rules.meeting_rule(kind, status, category)
            if rule is not None:
                self._record(village.id, pm, rule, held, rule.max_points, f"{kind}：{topic}", None, meeting_id,
                             occurrences, may_reject=False)
        for pm in sorted(taking_part):
            self._activities(village.id, pm, taking_part[pm], occurrences)

    def _activities(self, village_id: int, pm: int, category: str,
                    occurrences: dict[tuple[int, int], list[Occurrence]]) -> None:
        rng = self.rng
        active = rng.random() < 0.2  # about one in five members takes part in nearly everything
        for code, share, most in ACTIVITY:
            rule = self.rules.rule(code)
            assert rule is not None
            if active and rule.direction == "加分":
                share = min(0.95, share * 1.8)
            if category not in rule.applies_to or rng.random() >= share:
                continue
            for year in (self.last_year, self.this_year):
                # this year: up to yesterday, so the current month's first days have their entries too
                days = 365 if year == self.last_year else (self.job.as_of - dt.date(year, 1, 1)).days
                if days <= 0:
                    continue
                low = most * 2 // 3 if active else most // 3
                full = rng.randint(max(1, low), most)
                count = full if year == self.last_year else round(full * days / 365)
                used_months: dict[int, int] = defaultdict(int)
                used_quarters: dict[int, int] = defaultdict(int)
                for _ in range(count):
                    day = dt.date(year, 1, 1) + dt.timedelta(days=rng.randrange(days))
                    month = day.month
                    tenths = rule.max_points if rule.fixed else self._ranged(rule)
                    # stay within the rule's month and quarter caps, as a careful clerk would
                    if rule.cap("month") is not None and used_months[month] + tenths > rule.cap("month"):
                        continue
                    if rule.cap("quarter") is not None and used_quarters[_quarter(day)] + tenths > rule.cap("quarter"):
                        continue
                    used_months[month] += tenths
                    used_quarters[_quarter(day)] += tenths
                    evidence = "活动照片及签到表" if rule.evidence else None
                    self._record(village_id, pm, rule, day, tenths, rule.name, evidence, None, occurrences,
                                 may_reject=True)

    def _ranged(self, rule: Rule) -> int:
        steps = (rule.max_points - rule.min_points) // 5
        return rule.min_points + 5 * self.rng.randint(0, steps)

    # ----- one record and its workflow ------------------------------------------------------------
    def _record(self, village_id: int, pm: int, rule: Rule, day: dt.date, tenths: int, note: str,
                evidence: str | None, meeting_id: int | None, occurrences: dict[tuple[int, int], list[Occurrence]],
                *, may_reject: bool) -> None:
        rng, year = self.rng, day.year
        category = self.rules.category(rule.category)
        fields = dict(
            party_member_id=pm, village_id=village_id, year=year, occurred_on=day, rule_set_id=self.rule_sets[year],
            rule_id=self.rule_ids[(year, rule.code)], rule_code=rule.code, rule_name=rule.name, category=rule.category,
            category_name=category.name if category else "", direction=rule.direction, rule_points=rule.points_text,
            review_level=rule.review, points_tenths=rule.sign * tenths, note=note, evidence=evidence,
            meeting_id=meeting_id, entered_by=self.user, resubmissions=0, reverses_id=None)
        if (year, _quarter(day)) in self.entered_quarters:
            # as entered: the review course (PointsService) approves, rejects, publishes and closes it
            row = self.add(p.PointRecord, dict(fields, status="待村审"))
            draw = rng.random()
            recent = day >= (self.job.as_of.replace(day=1) - dt.timedelta(days=1)).replace(day=1)  # last month on
            share = 0.05 if recent else 0.01  # the latest review's rejections still wait for their correction
            self.entered.append({"id": row["id"], "village": village_id, "day": day, "review": rule.review,
                                 "tenths": tenths, "evidence": evidence, "note": note,
                                 "reject": may_reject and draw < share,
                                 "reverse": may_reject and share <= draw < share + 0.01})
            return
        effective_on, publicity = self._batch(village_id, year, _quarter(day))
        resubmitted = may_reject and rng.random() < 0.03
        row = self.add(p.PointRecord, dict(
            fields, status="生效", village_reviewed_by="村党支部", village_reviewed_on=day + dt.timedelta(days=3),
            township_reviewed_by="乡镇党委" if rule.review == "乡镇" else None,
            township_reviewed_on=(day + dt.timedelta(days=6)) if rule.review == "乡镇" else None,
            resubmissions=int(resubmitted), publicity_id=publicity, effective_on=effective_on))
        if resubmitted:
            reason = rng.choice(REJECT_REASONS)
            at = dt.datetime.combine(day, dt.time(9))
            self.add(p.PointEvent, dict(record_id=row["id"], at=at, username=self.user, action="录入", detail=None),
                     synced=False)
            self.add(p.PointEvent, dict(record_id=row["id"], at=at + dt.timedelta(days=2), username="村党支部",
                                        action="驳回", detail=f"待村审环节驳回：{reason}"), synced=False)
            self.add(p.PointEvent, dict(record_id=row["id"], at=at + dt.timedelta(days=3), username=self.user,
                                        action="重新提交", detail=f"修改后重新提交（原驳回理由：{reason}）"),
                     synced=False)
        if may_reject and rng.random() < 0.01:
            self._reverse(row)
            return
        occurrences[(pm, year)].append(Occurrence(row["id"], rule.code, rule.category, day, rule.sign * tenths))

    def _reverse(self, original: dict[str, Any]) -> None:
        on = original["effective_on"] + dt.timedelta(days=self.rng.randint(5, 40))
        reason = self.rng.choice(REVERSE_REASONS)
        fields = {k: v for k, v in original.items() if k not in ("id", "uuid", "created_at", "updated_at")}
        fields.update(points_tenths=-original["points_tenths"], note=f"冲正：{reason}", evidence=None,
                      effective_on=min(on, self.job.as_of), reverses_id=original["id"], resubmissions=0,
                      publicity_id=None, status="生效", entered_by="乡镇党委")
        reversal = self.add(p.PointRecord, fields)
        self.add(p.PointEvent, dict(record_id=reversal["id"], at=dt.datetime.combine(reversal["effective_on"],
                                                                                  dt.time(10)),
                                    username="乡镇党委", action="冲正", detail=f"冲正记录 {original['id']}：{reason}"),
                 synced=False)

    def _batch(self, village_id: int, year: int, quarter: int) -> tuple[dt.date, int]:
        """The long-closed quarterly 公示 batch of an effective record: (生效 date, batch id)."""
        key = (village_id, year, quarter)
        starts, ends = _publicity_dates(year, quarter)
        if key not in self.publicity:
            self.publicity[key] = self.add(p.PointPublicity, dict(
                village_id=village_id, title=f"{year}年第{quarter}季度党员积分公示", starts_on=starts,
                ends_on=ends, closed_on=ends + dt.timedelta(days=1), created_by=self.user))["id"]
        closed = ends + dt.timedelta(days=1)
        self.last_close[year] = max(self.last_close.get(year, closed), closed)
        return closed, self.publicity[key]

    # ----- balances and the store ----------------------------------------------------------------------
    def _balances(self, occurrences: dict[tuple[int, int], list[Occurrence]]) -> None:
        self.accounts: dict[int, dict[str, Any]] = {}
        for (pm, year), items in sorted(occurrences.items()):
            earned = balance_credit(self.rules, tally(self.rules, items, year).earning)
            if earned <= 0:
                continue
            account = self.accounts.get(pm)
            if account is None:
                account = self.add(p.PointAccount, dict(party_member_id=pm, balance_tenths=0, earned_tenths=0,
                                                        spent_tenths=0), synced=False)
                self.accounts[pm] = account
            account["balance_tenths"] += earned
            account["earned_tenths"] += earned
            when = dt.datetime.combine(self.last_close[year], dt.time(9))
            self.add(p.PointLedger, dict(party_member_id=pm, at=when, kind="积分转入", amount_tenths=earned,
                                         balance_after=account["balance_tenths"], year=year,
                                         username=self.user, note=f"{year}年积分生效"), synced=False)

    def _store(self) -> None:
        rng = self.rng
        defaults = settings()["store_defaults"]
        goods = []
        existing = set(self.job.conn.execute(select(p.StoreItem.name)).scalars())
        for item in defaults["goods"]:
            if item["name"] in existing:  # county scale: the store is shared by the whole database
                continue
            goods.append(self.add(p.StoreItem, dict(name=item["name"], points_tenths=parse_points(item["points"]),
                                                    stock=int(item["stock"]) * 3, pickup_point=defaults["pickup_point"],
                                                    active=True)))
        if not goods or self.job.as_of.month < 3:
            return
        village_of = dict(self.job.conn.execute(
            select(m.PartyMember.id, m.Person.village_id).join(m.Person, m.Person.id == m.PartyMember.person_id)
            .where(m.PartyMember.id.in_(list(self.accounts)))).all()) if self.accounts else {}
        for pm in sorted(self.accounts):
            if rng.random() >= 0.25:
                continue
            account = self.accounts[pm]
            item = rng.choice(goods)
            if item["stock"] < 1 or account["balance_tenths"] < item["points_tenths"]:
                continue
            at = dt.datetime(self.this_year, rng.randint(2, self.job.as_of.month - 1), rng.randint(1, 28),
                             rng.randint(8, 17))
            roll = rng.random()
            status = "已领取" if roll < 0.7 else ("待领取" if roll < 0.9 else "已取消")
            redemption = self.add(p.Redemption, dict(
                number="", party_member_id=pm, village_id=village_of.get(pm), item_id=item["id"],
                item_name=item["name"], quantity=1, points_tenths=item["points_tenths"], status=status,
                redeemed_at=at, picked_up_at=at + dt.timedelta(days=1) if status == "已领取" else None,
                cancelled_at=at + dt.timedelta(hours=2) if status == "已取消" else None,
                cancel_reason="群众改选其他商品" if status == "已取消" else None, handled_by=self.user))
            redemption["number"] = f"{settings()['receipt_prefix']}{at:%Y}-{redemption['id']:06d}"
            account["balance_tenths"] -= item["points_tenths"]
            account["spent_tenths"] += item["points_tenths"]
            item["stock"] -= 1
            self.add(p.PointLedger, dict(party_member_id=pm, at=at, kind="兑换", amount_tenths=-item["points_tenths"],
                                         balance_after=account["balance_tenths"], redemption_id=redemption["id"],
                                         username=self.user, note=f"兑换 {item['name']}×1（{redemption['number']}）"),
                     synced=False)
            if status == "已取消":
                account["balance_tenths"] += item["points_tenths"]
                account["spent_tenths"] -= item["points_tenths"]
                item["stock"] += 1
                self.add(p.PointLedger, dict(party_member_id=pm, at=redemption["cancelled_at"], kind="取消退回",
                                             amount_tenths=item["points_tenths"],
                                             balance_after=account["balance_tenths"], redemption_id=redemption["id"],
                                             username=self.user, note=f"取消兑换 {redemption['number']}"),
                         synced=False)



class _Review:
    """The entered records' course through PointsService, quarter by quarter, as the village and township do it.

    村审 monthly per village (a fortnight's backlog still waits), 乡镇审 monthly for
    the township's rules, a few rejected and resubmitted with the correction, the
    quarter's 公示 per village from the 5th of the next month, 生效 the day after it
    ends, and a few reversals after that — each only when its day has come.
    """

    def __init__(self, as_of: dt.date, rng: random.Random, entered: list[dict[str, Any]]) -> None:
        self.as_of, self.rng, self.entered = as_of, rng, entered

    def run(self, db: Database) -> None:
        self.service = PointsService(db, DEMO_ACTOR)
        quarters: dict[tuple[int, int], list[dict[str, Any]]] = defaultdict(list)
        for record in self.entered:
            quarters[(record["day"].year, _quarter(record["day"]))].append(record)
        for key in sorted(quarters):
            self._quarter(*key, quarters[key])

    def _quarter(self, year: int, quarter: int, records: list[dict[str, Any]]) -> None:
        backlog = self.as_of - dt.timedelta(days=14)  # entered later: still in the village's queue
        months: dict[tuple[int, int], list[dict[str, Any]]] = defaultdict(list)
        for record in records:
            if record["day"] <= backlog:
                months[(record["village"], record["day"].month)].append(record)
        for (_village, month), batch in sorted(months.items()):
            reviewed = min(self._month_end(year, month) + dt.timedelta(days=3), self.as_of)
            rejected = [r for r in batch if r["reject"]]
            if rejected:
                self.service.reject([r["id"] for r in rejected], self.rng.choice(REJECT_REASONS))
                for r in rejected:  # corrected and sent again within the week; the latest still wait for it
                    if self._left(r):
                        continue
                    self.service.resubmit(r["id"], RecordInput(r["day"], format_points(r["tenths"]), r["note"],
                                                               r["evidence"] or None))
            self.service.approve([r["id"] for r in batch if not self._left(r)], on=reviewed)
        township: dict[int, list[int]] = defaultdict(list)
        for (_village, month), batch in months.items():
            township[month].extend(r["id"] for r in batch if r["review"] == "乡镇" and not self._left(r)
                                   and r["day"] <= backlog - dt.timedelta(days=7))
        for month, ids in sorted(township.items()):
            if ids:
                self.service.approve(sorted(ids), on=min(self._month_end(year, month) + dt.timedelta(days=6),
                                                         self.as_of))
        starts, ends = _publicity_dates(year, quarter)
        if starts > self.as_of:
            return
        ready = {r["id"] for r in records if r["day"] <= backlog and (r["review"] != "乡镇"
                                                                       or r["day"] <= backlog - dt.timedelta(days=7))
                 and not self._left(r)}
        villages = sorted({r["village"] for r in records if r["id"] in ready})
        for village in villages:
            ids = sorted(r["id"] for r in records if r["village"] == village and r["id"] in ready)
            batch = self.service.publish(village, starts, ends, record_ids=ids)
            if ends < self.as_of:
                self.service.close_publicity(batch.id, on=ends + dt.timedelta(days=1))
        if ends >= self.as_of:
            return
        for record in records:
            if record["reverse"] and record["id"] in ready:
                on = min(ends + dt.timedelta(days=self.rng.randint(5, 40)), self.as_of)
                self.service.reverse(record["id"], self.rng.choice(REVERSE_REASONS), on=on)

    def _left(self, record: dict[str, Any]) -> bool:
        """Rejected at the latest village review and not corrected yet: it waits as 驳回."""
        day = record["day"]
        return record["reject"] and self._month_end(day.year, day.month) + dt.timedelta(days=10) > self.as_of

    @staticmethod
    def _month_end(year: int, month: int) -> dt.date:
        return dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)

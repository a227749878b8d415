"""Party-member points tables: rule set versions and rules, records with their workflow and events,
公示 batches, the redeemable balance (accounts and ledger) and the points store.

Records point at party members by id (the registry's table) and at the rule
set version they were made under, and snapshot the rule's name, category and
points, so a record reads the same after the rules change. Corrections of
effective records are reversing records (``reverses_id``), never edits.
Points are integer tenths (``*_tenths``).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from townapp.db.base import Base, SyncedMixin, utcnow


class PointRuleSet(SyncedMixin, Base):
    """One version of a year's rule set; records keep the version they were entered under."""

    __tablename__ = "point_rule_set"
    __table_args__ = (UniqueConstraint("year", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    definition: Mapped[str] = mapped_column(Text)  # canonical JSON, checked when saved
    digest: Mapped[str] = mapped_column(String(64))
    source: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(String(400))


class PointRule(Base):
    """A rule of one rule set version (a queryable copy of the definition's rules)."""

    __tablename__ = "point_rule"
    __table_args__ = (UniqueConstraint("rule_set_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_set_id: Mapped[int] = mapped_column(ForeignKey("point_rule_set.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(16))
    direction: Mapped[str] = mapped_column(String(4))
    min_tenths: Mapped[int] = mapped_column(Integer)
    max_tenths: Mapped[int] = mapped_column(Integer)
    review: Mapped[str] = mapped_column(String(4))
    evidence: Mapped[bool] = mapped_column(Boolean, default=False)


class PointPublicity(SyncedMixin, Base):
    """A 公示 batch: records of a village (or the township) posted from ``starts_on`` to ``ends_on``."""

    __tablename__ = "point_publicity"

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int | None] = mapped_column(ForeignKey("village.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    starts_on: Mapped[dt.date]
    ends_on: Mapped[dt.date]
    closed_on: Mapped[dt.date | None]  # the day its records became effective
    created_by: Mapped[str] = mapped_column(String(64), default="")


# the columns of ix_point_record_year_effective (migration 0009 names the same ones)
YEAR_EFFECTIVE_COLUMNS = ("year", "status", "effective_on", "party_member_id", "village_id", "occurred_on", "id",
                          "rule_code", "category", "points_tenths", "reverses_id")


class PointRecord(SyncedMixin, Base):
    """One occurrence of a rule for one party member, with its rule snapshot and workflow state."""

    __tablename__ = "point_record"
    __table_args__ = (
        Index("ix_point_record_member_year", "party_member_id", "year"),
        Index("ix_point_record_village_status", "village_id", "status"),
        # covers the year's effective records as totals and returns read them (SEARCH, no table rows):
        # a county's year is a quarter of a million among 1.5 million records
        Index("ix_point_record_year_effective", *YEAR_EFFECTIVE_COLUMNS),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    party_member_id: Mapped[int] = mapped_column(ForeignKey("party_member.id"))
    village_id: Mapped[int | None] = mapped_column(ForeignKey("village.id"))
    year: Mapped[int] = mapped_column(Integer)
    occurred_on: Mapped[dt.date]
    rule_set_id: Mapped[int] = mapped_column(ForeignKey("point_rule_set.id"), index=True)
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("point_rule.id"))
    # snapshot of the rule when the record was made
    rule_code: Mapped[str] = mapped_column(String(16))
    rule_name: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(16))
    category_name: Mapped[str] = mapped_column(String(64))
    direction: Mapped[str] = mapped_column(String(4))
    rule_points: Mapped[str] = mapped_column(String(16))  # e.g. "2" or "1–3"
    review_level: Mapped[str] = mapped_column(String(4))
    points_tenths: Mapped[int] = mapped_column(Integer)  # signed: deductions are negative
    note: Mapped[str | None] = mapped_column(String(400))
    evidence: Mapped[str | None] = mapped_column(String(400))
    meeting_id: Mapped[int | None] = mapped_column(Integer, index=True)  # archives' meeting it came from
    status: Mapped[str] = mapped_column(String(8), default="待村审")
    entered_by: Mapped[str] = mapped_column(String(64), default="")
    village_reviewed_by: Mapped[str | None] = mapped_column(String(64))
    village_reviewed_on: Mapped[dt.date | None]
    township_reviewed_by: Mapped[str | None] = mapped_column(String(64))
    township_reviewed_on: Mapped[dt.date | None]
    reject_reason: Mapped[str | None] = mapped_column(String(400))
    resubmissions: Mapped[int] = mapped_column(Integer, default=0)
    publicity_id: Mapped[int | None] = mapped_column(ForeignKey("point_publicity.id"), index=True)
    effective_on: Mapped[dt.date | None]
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("point_record.id"), unique=True)


class PointEvent(Base):
    """What happened to a record: 录入, 村审通过, 驳回 (with reason), 重新提交, 公示, 生效, 冲正."""

    __tablename__ = "point_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("point_record.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    username: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(String(400))


class PointAccount(Base):
    """A member's redeemable balance, kept apart from the annual score; never negative."""

    __tablename__ = "point_account"
    __table_args__ = (CheckConstraint("balance_tenths >= 0", name="balance_not_negative"),)

    party_member_id: Mapped[int] = mapped_column(ForeignKey("party_member.id"), primary_key=True)
    balance_tenths: Mapped[int] = mapped_column(Integer, default=0)
    earned_tenths: Mapped[int] = mapped_column(Integer, default=0)
    spent_tenths: Mapped[int] = mapped_column(Integer, default=0)


class PointLedger(Base):
    """Every movement of a balance: 积分转入, 冲正扣回, 兑换, 取消退回 (signed tenths, balance after)."""

    __tablename__ = "point_ledger"

    id: Mapped[int] = mapped_column(primary_key=True)
    party_member_id: Mapped[int] = mapped_column(ForeignKey("party_member.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(8))
    amount_tenths: Mapped[int] = mapped_column(Integer)
    balance_after: Mapped[int] = mapped_column(Integer)
    year: Mapped[int | None] = mapped_column(Integer)
    record_id: Mapped[int | None] = mapped_column(ForeignKey("point_record.id"))
    redemption_id: Mapped[int | None] = mapped_column(ForeignKey("point_redemption.id"))
    username: Mapped[str] = mapped_column(String(64), default="")
    note: Mapped[str | None] = mapped_column(String(200))


class StoreItem(SyncedMixin, Base):
    """积分超市 goods: price in tenths, stock never below 0."""

    __tablename__ = "point_store_item"
    __table_args__ = (CheckConstraint("stock >= 0", name="stock_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    points_tenths: Mapped[int] = mapped_column(Integer)
    stock: Mapped[int] = mapped_column(Integer, default=0)
    pickup_point: Mapped[str | None] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Redemption(SyncedMixin, Base):
    """One redemption: 待领取 → 已领取, or 已取消 with an exact refund of points and stock."""

    __tablename__ = "point_redemption"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    party_member_id: Mapped[int] = mapped_column(ForeignKey("party_member.id"), index=True)
    village_id: Mapped[int | None] = mapped_column(ForeignKey("village.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("point_store_item.id"), index=True)
    item_name: Mapped[str] = mapped_column(String(100))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    points_tenths: Mapped[int] = mapped_column(Integer)  # total cost
    status: Mapped[str] = mapped_column(String(4), default="待领取")
    redeemed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    picked_up_at: Mapped[dt.datetime | None]
    cancelled_at: Mapped[dt.datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(String(200))
    handled_by: Mapped[str] = mapped_column(String(64), default="")


class PointYearClose(SyncedMixin, Base):
    """A year's points closed at 年度结转: its grades are final and no record of the year changes after it."""

    __tablename__ = "point_year_close"

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, unique=True)
    closed_on: Mapped[dt.date]
    closed_by: Mapped[str] = mapped_column(String(64))
    rule_set_id: Mapped[int | None] = mapped_column(ForeignKey("point_rule_set.id"))  # the version graded by


class PointYearGrade(SyncedMixin, Base):
    """A member's final year total and grade, written once at 年度结转: certificates and returns read it."""

    __tablename__ = "point_year_grade"
    __table_args__ = (UniqueConstraint("year", "party_member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    party_member_id: Mapped[int] = mapped_column(ForeignKey("party_member.id"), index=True)
    village_id: Mapped[int | None] = mapped_column(ForeignKey("village.id"), index=True)
    total_tenths: Mapped[int] = mapped_column(Integer)
    grade: Mapped[str] = mapped_column(String(8))

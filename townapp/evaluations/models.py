"""Evaluation tables: scheme versions, rounds with their scope, targets with results, stage entries, 公示 objections.

Targets point at other modules by id only (``ref_id``: a household, a person
or a village, per the scheme's target kind) and keep a label snapshot, so a
finished round reads the same after the registry changes.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from townapp.db.base import Base, SyncedMixin, utcnow


class EvalScheme(SyncedMixin, Base):
    """One version of a scheme; rounds keep the version they were created with."""

    __tablename__ = "eval_scheme"
    __table_args__ = (UniqueConstraint("key", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(48))
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(24))
    period: Mapped[str] = mapped_column(String(16))
    definition: Mapped[str] = mapped_column(Text)  # canonical JSON
    digest: Mapped[str] = mapped_column(String(64))
    source: Mapped[str | None] = mapped_column(String(200))  # file it came from, or 界面编辑
    source_digest: Mapped[str | None] = mapped_column(String(64))  # the file's digest when it was read


class EvalRound(SyncedMixin, Base):
    __tablename__ = "eval_round"

    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("eval_scheme.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    year: Mapped[int] = mapped_column(Integer)
    period_no: Mapped[int] = mapped_column(Integer, default=0)  # month 1–12, quarter 1–4, half 1–2, 0 for a year
    stage: Mapped[str] = mapped_column(String(32))  # key of the current stage
    status: Mapped[str] = mapped_column(String(8), default="进行中")  # 进行中 / 公示中 / 已定级
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    bodies: Mapped[str | None] = mapped_column(String(200))  # 联评 bodies, separated by 、
    publicity_start: Mapped[dt.date | None]
    publicity_end: Mapped[dt.date | None]
    finalised_on: Mapped[dt.date | None]
    finalised_by: Mapped[str | None] = mapped_column(String(64))


class EvalRoundVillage(Base):
    """The round's scope."""

    __tablename__ = "eval_round_village"

    round_id: Mapped[int] = mapped_column(ForeignKey("eval_round.id", ondelete="CASCADE"), primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id", ondelete="CASCADE"), primary_key=True,
                                            index=True)


class EvalTarget(SyncedMixin, Base):
    """One target in one round, with its inputs and its current (or final) result."""

    __tablename__ = "eval_target"
    __table_args__ = (UniqueConstraint("round_id", "ref_id"), Index("ix_eval_target_ref", "ref_id", "round_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("eval_round.id", ondelete="CASCADE"))
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"), index=True)
    ref_id: Mapped[int] = mapped_column(Integer)  # household / person / village id, per the scheme's target
    label: Mapped[str] = mapped_column(String(100))
    code: Mapped[str | None] = mapped_column(String(32))  # 户编号 / 区划代码: what a workbook shows
    inputs: Mapped[str] = mapped_column(Text, default="{}")  # JSON {input key: value}
    rollup: Mapped[Decimal | None] = mapped_column(Numeric(7, 1))
    barred: Mapped[str | None] = mapped_column(String(200))  # why it may not be rated (a revoked title)
    level: Mapped[str | None] = mapped_column(String(16))
    rank: Mapped[int] = mapped_column(Integer, default=0)
    measure: Mapped[Decimal | None] = mapped_column(Numeric(7, 1))
    vetoed: Mapped[bool] = mapped_column(Boolean, default=False)
    reasons: Mapped[str | None] = mapped_column(String(400))
    flags: Mapped[str | None] = mapped_column(String(200))
    decided_stage: Mapped[str | None] = mapped_column(String(32))  # the stage whose entry gave the level
    revoked_on: Mapped[dt.date | None]
    revoke_reason: Mapped[str | None] = mapped_column(String(400))


class EvalEntry(Base):
    """What one stage recorded for one target (values as JSON: one row, not one per indicator)."""

    __tablename__ = "eval_entry"
    __table_args__ = (UniqueConstraint("target_id", "stage"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("eval_target.id", ondelete="CASCADE"))
    stage: Mapped[str] = mapped_column(String(32))
    scores: Mapped[str] = mapped_column(Text, default="{}")  # JSON {indicator code: "4.5"}
    negatives: Mapped[str] = mapped_column(Text, default="{}")  # JSON {negative code: note}
    comment: Mapped[str | None] = mapped_column(String(400))
    level: Mapped[str | None] = mapped_column(String(16))
    measure: Mapped[Decimal | None] = mapped_column(Numeric(7, 1))
    entered_by: Mapped[str | None] = mapped_column(String(64))
    entered_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # a county stage's entry brought by the county's return package: who decided where and when; the
    # township cannot change such an entry (set only by EvaluationService.apply_county_decisions)
    county_decision: Mapped[str | None] = mapped_column(String(200))


class EvalObjection(Base):
    """异议 raised during 公示 and how it was handled."""

    __tablename__ = "eval_objection"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("eval_round.id", ondelete="CASCADE"), index=True)
    target_id: Mapped[int | None] = mapped_column(ForeignKey("eval_target.id", ondelete="CASCADE"), index=True)
    raised_on: Mapped[dt.date]
    raised_by: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(String(400))
    handled_on: Mapped[dt.date | None]
    handling: Mapped[str | None] = mapped_column(String(400))
    outcome: Mapped[str | None] = mapped_column(String(16))  # 维持原评定 / 调整评定


class EvalEvent(Base):
    """The round's own log (stage hand-overs, 公示, 定级, 解锁 with reason) shown on its page."""

    __tablename__ = "eval_event"
    __audited__ = False  # it is itself a log; the changes it describes are audited

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("eval_round.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    username: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(String(400))

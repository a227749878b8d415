"""Grid tables (网格化管理): the grid tree, its roster, household assignments and the monthly assessment.

History is kept by dates, never by overwriting: a member's term ends
(``ended_on``), a household's assignment ends when it moves, a retired grid
stays with ``active`` false, and every move or retirement of a grid is a
``GridChange`` row. Points are integer tenths (87.5 分 → 875), money integer 分.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from townapp.db.base import Base, SyncedMixin, utcnow


class Grid(SyncedMixin, Base):
    """网格 / 辅助网格 / 微网格 in one tree per village; the code is unique in the township."""

    __tablename__ = "grid"
    __table_args__ = (UniqueConstraint("township_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("township.id"), index=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("grid.id"), index=True)
    level: Mapped[str] = mapped_column(String(8))
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str | None] = mapped_column(String(400))  # 四至/范围
    party_group_id: Mapped[int | None] = mapped_column(ForeignKey("party_branch.id", ondelete="SET NULL"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    retired_on: Mapped[dt.date | None]
    note: Mapped[str | None] = mapped_column(String(400))


class GridChange(Base):
    """新建 / 调整上级 / 撤销 / 恢复 of a grid, with the date it took effect (the audit log has the fields)."""

    __tablename__ = "grid_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("grid.id", ondelete="CASCADE"), index=True)
    changed_on: Mapped[dt.date]
    kind: Mapped[str] = mapped_column(String(8))
    detail: Mapped[str | None] = mapped_column(String(400))
    username: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class GridMember(SyncedMixin, Base):
    """A registry person serving one grid in one role from ``started_on`` to ``ended_on`` (None: serving)."""

    __tablename__ = "grid_member"

    id: Mapped[int] = mapped_column(primary_key=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("grid.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    role: Mapped[str] = mapped_column(String(8))
    duty: Mapped[str] = mapped_column(String(4), default="兼职")  # 专职 / 兼职
    started_on: Mapped[dt.date]
    ended_on: Mapped[dt.date | None]
    phone: Mapped[str | None] = mapped_column(String(32))


class GridAssignment(SyncedMixin, Base):
    """A household in a micro-grid from ``started_on`` until ``ended_on`` (None: now); at most one open row per household."""

    __tablename__ = "grid_assignment"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id", ondelete="CASCADE"), index=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("grid.id"), index=True)
    started_on: Mapped[dt.date]
    ended_on: Mapped[dt.date | None]


class GridMonth(SyncedMixin, Base):
    """One township's assessment month: 草稿 → 待审批 → 已审批 (locked); unlocking is audited with a reason."""

    __tablename__ = "grid_month"
    __table_args__ = (UniqueConstraint("township_id", "year", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("township.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    month: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(8), default="草稿")
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    submitted_by: Mapped[str | None] = mapped_column(String(64))
    approved_by: Mapped[str | None] = mapped_column(String(64))
    approved_at: Mapped[dt.datetime | None]
    unlocked_by: Mapped[str | None] = mapped_column(String(64))
    scheme_json: Mapped[str | None] = mapped_column(Text)  # the scheme the approved subsidies were computed with


class GridAssessment(SyncedMixin, Base):
    """One member's month: item scores (JSON of integer tenths), a deduction with its reason, total, subsidy."""

    __tablename__ = "grid_assessment"
    __table_args__ = (UniqueConstraint("month_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    month_id: Mapped[int] = mapped_column(ForeignKey("grid_month.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("grid_member.id"), index=True)
    scores: Mapped[str] = mapped_column(Text, default="{}")
    deduction: Mapped[int] = mapped_column(Integer, default=0)  # tenths of a point
    deduction_reason: Mapped[str | None] = mapped_column(String(200))
    total: Mapped[int | None] = mapped_column(Integer)  # tenths; None until every item is scored
    performance_fen: Mapped[int | None] = mapped_column(BigInteger)
    allowance_fen: Mapped[int | None] = mapped_column(BigInteger)
    subsidy_fen: Mapped[int | None] = mapped_column(BigInteger)
    note: Mapped[str | None] = mapped_column(String(200))


class GridStar(SyncedMixin, Base):
    """最美网格员 of a month, chosen by a person from the month's top scores, with 事迹."""

    __tablename__ = "grid_star"
    __table_args__ = (UniqueConstraint("month_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    month_id: Mapped[int] = mapped_column(ForeignKey("grid_month.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("grid_member.id"), index=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"), index=True)
    deeds: Mapped[str] = mapped_column(String(1000))
    chosen_by: Mapped[str] = mapped_column(String(64))

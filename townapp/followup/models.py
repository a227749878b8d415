"""整改跟踪 tables: follow-up items proposed from 定级 results, their problems and their status history.

An item is unique per (rule, village, year, period, person): proposing twice
finds it again, so a closed or rejected item stays as someone left it. The
软弱涣散 case an accepted 整顿 item created lives in the archive; the item
only keeps its id.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from townapp.db.base import Base, SyncedMixin, utcnow


class FollowUpItem(SyncedMixin, Base):
    """One piece of follow-up work for a village: 整顿, a 问题清单 or a 调整建议 about its 书记."""

    __tablename__ = "followup_item"
    __table_args__ = (UniqueConstraint("rule_id", "village_id", "year", "period_no", "ref_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column(Integer)  # the year of the result it follows up
    period_no: Mapped[int] = mapped_column(Integer, default=0)
    rule_id: Mapped[str] = mapped_column(String(40))  # resources/followup/rules.json, or 手工 for one added by hand
    kind: Mapped[str] = mapped_column(String(8))  # 整顿 / 问题清单 / 调整建议
    scheme_key: Mapped[str | None] = mapped_column(String(64))
    round_id: Mapped[int | None] = mapped_column(Integer, index=True)  # the 定级 round (no FK: rounds are locked)
    level: Mapped[str | None] = mapped_column(String(16))  # the level that triggered it
    source: Mapped[str | None] = mapped_column(String(200))  # 2025年度村党组织评星定级：二星
    ref_id: Mapped[int] = mapped_column(Integer, default=0)  # the person (头雁: the 书记), 0 for the village
    subject: Mapped[str] = mapped_column(String(100))  # 东张村党组织 / the 书记's name
    title: Mapped[str] = mapped_column(String(200))
    content: Mapped[str | None] = mapped_column(Text)
    proposed_on: Mapped[dt.date]
    deadline: Mapped[dt.date | None]
    status: Mapped[str] = mapped_column(String(8), default="拟办")
    accepted_on: Mapped[dt.date | None]
    closed_on: Mapped[dt.date | None]
    result_note: Mapped[str | None] = mapped_column(String(400))  # 整改结果 / 不予采纳 reason
    progress_note: Mapped[str | None] = mapped_column(String(400))
    rectification_id: Mapped[int | None] = mapped_column(Integer)  # the archive's 软弱涣散 case


class FollowUpProblem(SyncedMixin, Base):
    """One problem of a 问题清单: its own deadline and its own closure (销号)."""

    __tablename__ = "followup_problem"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("followup_item.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    content: Mapped[str] = mapped_column(String(400))
    deadline: Mapped[dt.date | None]
    status: Mapped[str] = mapped_column(String(8), default="整改中")  # 整改中 / 已销号
    closed_on: Mapped[dt.date | None]
    note: Mapped[str | None] = mapped_column(String(400))


class FollowUpEvent(Base):
    """A status change or progress note of an item: who, when, from what to what, why."""

    __tablename__ = "followup_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("followup_item.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    username: Mapped[str] = mapped_column(String(64))
    from_status: Mapped[str | None] = mapped_column(String(8))
    to_status: Mapped[str] = mapped_column(String(8))
    note: Mapped[str | None] = mapped_column(String(400))

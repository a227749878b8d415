"""The county's copies of what townships report, and the county's own decisions.

A county database holds every township's registry, archive and grid rows in
the modules' own tables (their packages are imported row by row). What the
townships decide and count themselves — the return's figures, members' year
points, the store, evaluation rounds, certificates — is kept here as each
township reported it (``CountyCopy``: one row per reported row, replaced by the
township's next package), never recomputed with county-wide rules. The
county's own stages on those rounds are ``CountyDecision`` rows, sent back down
in a return package.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from townapp.db.base import Base, SyncedMixin, utcnow


class CountyCopy(Base):
    """One row of a township's report, as the township sent it (``data``: the row's cells as JSON)."""

    __tablename__ = "county_copy"
    __audited__ = False  # a township's report kept as sent: its import batch says which file brought it
    __table_args__ = (UniqueConstraint("township_code", "sheet", "row_key"),
                      Index("ix_county_copy_period", "sheet", "period"))

    id: Mapped[int] = mapped_column(primary_key=True)
    township_code: Mapped[str] = mapped_column(String(12))
    sheet: Mapped[str] = mapped_column(String(32))  # the sheet spec's key (return_figure, eval_result …)
    row_key: Mapped[str] = mapped_column(String(120))  # the row's identity within the township's sheet
    period: Mapped[str] = mapped_column(String(40), default="")  # what it is looked up by (2025Q4, a round's uuid)
    data: Mapped[str] = mapped_column(Text)


class CountyDecision(SyncedMixin, Base):
    """The county's result for one target at one of its stages (县级联审, 县级验收 …) of a township's round."""

    __tablename__ = "county_decision"
    __table_args__ = (UniqueConstraint("target_uuid", "stage"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    township_code: Mapped[str] = mapped_column(String(12), index=True)
    round_uuid: Mapped[str] = mapped_column(String(36), index=True)
    target_uuid: Mapped[str] = mapped_column(String(36))
    stage: Mapped[str] = mapped_column(String(32))
    verdict: Mapped[str] = mapped_column(String(8))  # 同意 | 否决
    negative: Mapped[str | None] = mapped_column(String(32))  # the scheme's 否定项 code when 否决
    note: Mapped[str | None] = mapped_column(String(400))  # what the county found (the 否定项's note)
    comment: Mapped[str | None] = mapped_column(String(400))
    decided_by: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

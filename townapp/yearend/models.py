"""The year close record: which year of the township was closed, when, by whom, with what outcome."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from townapp.db.base import Base, SyncedMixin


class YearClose(SyncedMixin, Base):
    """One closed year. The modules keep their own final results (points grades, 定级 rounds, the archive);
    this row says the township finished the year and what the close wrote, for the page and the county."""

    __tablename__ = "year_close"

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, unique=True)
    closed_on: Mapped[dt.date]
    closed_by: Mapped[str] = mapped_column(String(64))
    summary: Mapped[str] = mapped_column(Text, default="")  # Chinese lines: what the close finalised and carried

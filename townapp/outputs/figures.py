"""Named figures: the protocol between the modules that know the data and the outputs that print it.

A figure (``party.members_total``, ``grids.covered_households`` …) is a value
per village as of a date. Modules provide them as small query functions over
their own tables; the composition root (``townapp/figures.py``) collects them
into a :class:`FigureRegistry` and hands it to the outputs, which never import
a module. Return layouts and the dashboard name figures by key only, so a new
column is a line of JSON, not code.

Every figure of one return is computed in one read transaction, so the figures
of one export agree with each other (the same snapshot), and the same data
always gives the same figures (no clocks, no randomness, exact arithmetic).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TypeVar

from sqlalchemy.orm import Session

from townapp.core.errors import DomainError

FigureValue = int | Decimal | str | None
T = TypeVar("T")


@dataclass(frozen=True)
class Period:
    """A quarter: figures are "as of" its last day; "in the quarter" means start..end inclusive."""

    year: int
    quarter: int

    def __post_init__(self) -> None:
        if self.quarter not in (1, 2, 3, 4):
            raise DomainError(f"季度应为1至4，现为{self.quarter}")
        if not 1949 <= self.year <= 2200:
            raise DomainError(f"年份{self.year}不在有效范围内")

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, 3 * self.quarter - 2, 1)

    @property
    def end(self) -> dt.date:
        month = 3 * self.quarter
        following = dt.date(self.year + (month == 12), month % 12 + 1, 1)
        return following - dt.timedelta(days=1)

    @property
    def months(self) -> tuple[int, int, int]:
        first = 3 * self.quarter - 2
        return first, first + 1, first + 2

    @property
    def text(self) -> str:
        return f"{self.year}年第{'一二三四'[self.quarter - 1]}季度"

    @classmethod
    def containing(cls, day: dt.date) -> Period:
        return cls(day.year, (day.month - 1) // 3 + 1)


@dataclass(frozen=True)
class Unit:
    """A row of a return: a village (township database) with the township it belongs to."""

    id: int
    code: str
    name: str
    township_id: int
    township_code: str
    township_name: str


FigureFn = Callable[[Session, Period, Sequence[int]], Mapping[int, FigureValue]]


@dataclass(frozen=True)
class Figure:
    """One named figure and how to compute it for a set of village ids."""

    key: str
    label: str
    compute: FigureFn
    kind: str = "count"  # count | fen (money, integer 分) | decimal | text
    # decided at the township from what its sync package does not carry row by row (point records, stage
    # entries, the months' approvals): the package reports the value per village and quarter, and a county
    # reads the township's value instead of computing one from its copies
    reported: bool = False


def read_once(session: Session, key: Hashable, read: Callable[[], T]) -> T:
    """What ``read`` returns, read once per session: a return's figures share their larger reads
    (the roll, the year's points totals, the rated households) instead of each reading it again."""
    if key not in session.info:
        session.info[key] = read()
    return session.info[key]


@dataclass
class FigureRegistry:
    """The figures the app knows, by key; built once at start-up by the composition root."""

    figures: dict[str, Figure] = field(default_factory=dict)

    @classmethod
    def of(cls, *groups: Iterable[Figure]) -> FigureRegistry:
        registry = cls()
        for group in groups:
            for figure in group:
                registry.add(figure)
        return registry

    def add(self, figure: Figure) -> None:
        if figure.key in self.figures:
            raise ValueError(f"figure {figure.key} provided twice")
        self.figures[figure.key] = figure

    def __contains__(self, key: str) -> bool:
        return key in self.figures

    def label(self, key: str) -> str:
        figure = self.figures.get(key)
        return figure.label if figure else key

    def compute(self, session: Session, keys: Iterable[str], period: Period,
                village_ids: Sequence[int]) -> tuple[dict[str, dict[int, FigureValue]], list[str]]:
        """Values per key per village, and the keys nobody provides (shown as 0 and reported)."""
        values: dict[str, dict[int, FigureValue]] = {}
        missing: list[str] = []
        for key in dict.fromkeys(keys):
            figure = self.figures.get(key)
            if figure is None:
                missing.append(key)
                values[key] = {}
                continue
            values[key] = dict(figure.compute(session, period, village_ids))
        return values, missing


@dataclass(frozen=True)
class UnitSource:
    """What the return needs besides figures: the rows (villages) and who reports (the root unit)."""

    units: Callable[[Session], list[Unit]]
    root: Callable[[Session], tuple[str, str, str]]  # (mode, name, code) of the database


def as_number(value: FigureValue) -> Decimal:
    """A figure as a number for totals (text and None count as 0)."""
    if value is None or isinstance(value, str):
        return Decimal(0)
    return Decimal(value)

"""Declarative sheet specs: the one list of columns for templates, import and export.

A module describes each entity once (headers, aliases, type, required, enum
synonyms, example) and gives an adapter that matches rows against its tables
and writes them. Everything else — finding the header, normalising cells,
reporting, templates, packages — is generic and lives in this package.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Connection

from townapp.core.actor import Actor

if TYPE_CHECKING:
    from townapp.db import Database

# value kinds a column can have; normalize.py has one function per kind
TEXT = "text"  # free text: kept as typed (punctuation, inner spaces); invisible characters and outer spaces go
NAME = "name"  # a person's or place's name (core.text.clean_name)
CODE = "code"  # digits/letters without spaces (区划代码, 户编号); numeric cells become their integer
ID_NUMBER = "id_number"  # 居民身份证号: never accepted from a numeric cell
PHONE = "phone"
DATE = "date"
ENUM = "enum"  # one of ``choices`` (or a synonym)
INT = "int"
LIST = "list"  # several names separated by 、，; or spaces
KINDS = (TEXT, NAME, CODE, ID_NUMBER, PHONE, DATE, ENUM, INT, LIST)

# kinds whose cells are written as text ("@") so Excel never turns them into numbers
TEXT_FORMAT_KINDS = (ID_NUMBER, PHONE, CODE)

# an .xlsx worksheet holds 1,048,576 rows; a longer sheet (a county's meeting attendance: millions of
# rows) continues on sheets named 会议出席（续1）, 会议出席（续2）… each starting with the header again
MAX_SHEET_ROWS = 1_048_576
_PART_OPEN, _PART_CLOSE = "（续", "）"


def part_title(title: str, part: int) -> str:
    """The name of a sheet's ``part``-th continuation (0: the sheet itself)."""
    return title if part == 0 else f"{title}{_PART_OPEN}{part}{_PART_CLOSE}"


def part_of(name: str) -> tuple[str, int]:
    """(title, part) for a sheet name: 会议出席（续2） → (会议出席, 2); other names are part 0."""
    if name.endswith(_PART_CLOSE) and _PART_OPEN in name:
        title, _, number = name[:-len(_PART_CLOSE)].rpartition(_PART_OPEN)
        if title and number.isdigit() and number.isascii() and int(number) > 0:
            return title, int(number)
    return name, 0


@dataclass(frozen=True, eq=False)
class ColumnSpec:
    """One column: how it is called, what it holds, how to check it."""

    key: str
    header: str
    kind: str = TEXT
    aliases: tuple[str, ...] = ()
    required: bool = False
    choices: tuple[str, ...] = ()
    synonyms: Mapping[str, str] = field(default_factory=dict)
    pattern: str | None = None  # regular expression the normalised text must match
    pattern_message: str = ""
    max_length: int | None = None
    example: Any = None
    note: str = ""  # shown on the 填写说明 sheet
    width: float = 14
    signature: bool = False  # a header that marks this sheet's entity when the sheet name does not
    # a date column that may hold only a year and month (1978.02, 1978年2月): read as a core.dates.MonthDate
    # (never an invented day), stored with its precision; other date columns ask for the day
    month_precision: bool = False
    # spellings that name a range of choices (学历 高中及以下): read as nothing, with a warning, so they
    # never overwrite a stored value nor store a guess
    vague: tuple[str, ...] = ()
    # False: a column only a user's roster brings (the person's 性别 or 所属村 on the 党员 sheet, which the
    # 人员 sheet carries): read on import and shown in the template, never written by an export or package
    exported: bool = True

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown column kind {self.kind!r}")

    @property
    def text_format(self) -> bool:
        return self.kind in TEXT_FORMAT_KINDS

    @property
    def labels(self) -> tuple[str, ...]:
        return (self.header, *self.aliases)


def enum_column(key: str, header: str, vocabulary: Any, **kw: Any) -> ColumnSpec:
    """A column of a module's vocabulary (anything with ``values`` and ``synonyms``): its choices and synonyms."""
    return ColumnSpec(key, header, ENUM, choices=tuple(vocabulary.values), synonyms=dict(vocabulary.synonyms),
                      vague=tuple(getattr(vocabulary, "ranges", ())), **kw)


@dataclass(frozen=True, eq=False)
class SheetSpec:
    """One entity's sheet. ``key`` names the entity in the import log and county holdings."""

    key: str
    title: str
    columns: tuple[ColumnSpec, ...]
    adapter: SheetAdapter
    aliases: tuple[str, ...] = ()
    description: str = ""
    # groups of column keys of which at least one must be in the file, e.g. village by code or by name
    required_any: tuple[tuple[str, ...], ...] = ()
    # column keys that identify a row (duplicates inside one file are errors)
    key_columns: tuple[str, ...] = ()
    # a sheet only sync packages carry (what a township reports up, what the county sends down): never in a
    # template, never recognised in a person's workbook
    package_only: bool = False

    def column(self, key: str) -> ColumnSpec:
        for column in self.columns:
            if column.key == key:
                return column
        raise KeyError(key)

    @property
    def names(self) -> tuple[str, ...]:
        return (self.title, *self.aliases)

    @property
    def exported_columns(self) -> tuple[ColumnSpec, ...]:
        """The columns an export or sync package writes (a roster's extra person columns left out)."""
        return tuple(column for column in self.columns if column.exported)


class Cells(dict[str, Any]):
    """A row's cleaned cells by column key; a key that is not there reads as None."""

    def __missing__(self, key: str) -> None:
        return None


@dataclass
class Row:
    """One data row of the user's sheet after normalisation.

    ``values`` holds only the cells that carry a value: a column missing
    from the file and, in a workbook, an empty cell are both left out, so
    an import never erases a stored value because a cell is empty
    (``has(key)`` is False: keep what is stored). Only a sync package — the
    sender's whole state — keeps its empty cells, as ``None``. Adapters
    decide updates by ``has``, never by ``ctx.present``. They set
    ``entity_id`` and ``action`` and may keep their own notes in ``data``.
    """

    number: int  # the Excel row number the user sees
    values: dict[str, Any]
    failed: bool = False
    entity_id: int | None = None
    action: str | None = None  # created | updated | unchanged
    data: dict[str, Any] = field(default_factory=dict)

    def has(self, key: str) -> bool:
        """Whether the row brings a value (or, from a package, an explicit empty) for ``key``."""
        return key in self.values

    def get(self, key: str, default: Any = None) -> Any:
        value = self.values.get(key)
        return default if value is None else value


# a 村录入员's row that would create or change another village's (or the township's) records
NOT_PERMITTED_MESSAGE = "村录入员只能导入本村的数据：这一行要新增或修改其他村或全乡镇的记录。请删去这一行，或请乡镇干部导入"


class ImportContext(Protocol):
    """What the pipeline offers an adapter while one sheet is imported."""

    spec: SheetSpec
    mode: str  # "township" | "county"
    township_code: str  # the township the rows belong to (this database's, or the package's in county mode)
    township_name: str
    now: dt.datetime
    present: frozenset[str]  # column keys found in the user's sheet
    shared: dict[str, Any]  # adapters' cache for the whole import (e.g. resolved township id)
    actor: Actor  # who imports: the module's service checks what they may write
    db: Database  # to build that service; the writes go to the import's connection
    batch_id: int | None  # the import_batch the audit rows name (None for a dry run)
    reason: str | None  # the audit's reason ("导入文件 …")
    package: bool  # the rows come from a sync package (the sender's whole state), not a person's workbook

    def error(self, row: Row | None, key: str | None, code: str, message: str) -> None:
        """Record an error at a row (and column); the row is then skipped and the file rejected."""

    def warn(self, row: Row | None, key: str | None, message: str) -> None:
        """Record a warning: shown to the user, does not reject the file."""

    def held_ids(self, entity: str) -> set[int] | None:
        """County mode: ids of ``entity`` the importing township holds (earlier packages and this one so far).

        None in township mode, where every record belongs to the one township.
        """

    def step(self, done: int, total: int, text: str) -> None:
        """Progress; raises Cancelled when the user asked to stop."""


class SheetAdapter(ABC):
    """A module's bridge between rows and its tables (set-based, chunked, Core statements).

    The pipeline calls ``match`` then ``apply`` then ``finish`` for each sheet
    inside one transaction; the transaction is rolled back for a dry run or
    when any error was recorded, so adapters simply write what is valid.
    """

    entity: str = ""

    @abstractmethod
    def match(self, conn: Connection, rows: list[Row], ctx: ImportContext) -> None:
        """Resolve references, apply the module's rules, find existing records by their keys.

        Sets ``row.entity_id`` for rows that match an existing record and
        ``row.action`` (created/updated/unchanged) where it can already tell.
        """

    @abstractmethod
    def apply(self, conn: Connection, rows: list[Row], ctx: ImportContext) -> None:
        """Insert or update the rows without errors; every such row ends with ``action`` and ``entity_id``."""

    def finish(self, conn: Connection, rows: list[Row], ctx: ImportContext) -> None:
        """Invariants that only hold for the sheet as a whole (e.g. one 户主 per household)."""
        return None

    def report_needs_writes(self, rows: list[Row], ctx: ImportContext) -> bool:
        """Whether ``apply``/``finish`` may still add errors or counts for these rows.

        A dry run skips the writes of its last sheet when this is False: nothing
        later reads them and they are rolled back anyway, and the report does
        not change (100,000 inserts into indexed tables are most of a dry run's
        time). Only say False when ``match`` already set every row's ``action``.
        """
        return True

    # True when ``export_rows`` takes ``village_id=`` and then yields only that village's rows
    # (filtered in its query): a 村录入员's export_sheets leaves out every sheet that can't.
    village_scoped: bool = False

    @abstractmethod
    def export_rows(self, conn: Connection, township_code: str | None) -> Iterator[dict[str, Any]]:
        """Every record (of one township, or all when None) as {column key: value}.

        In a stable order by natural keys, never by ids, so the same data
        always gives the same sheet (package hashes compare across databases).
        """

    @abstractmethod
    def delete(self, conn: Connection, ids: list[int], ctx: ImportContext) -> None:
        """County mode: remove records a township's new package no longer has (through the module's service)."""

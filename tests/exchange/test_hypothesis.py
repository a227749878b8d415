"""Arbitrary cell values never crash the importer: they are accepted or reported.

GIVEN an otherwise valid workbook
WHEN one row (and one extra column) holds arbitrary values — text, numbers, dates, booleans
THEN the dry run returns a report (accepted, or rejected with coded Chinese errors), never an exception.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from townapp.db import Database
from townapp.exchange import spec as s
from townapp.exchange.normalize import CellError, normalize_cell
from townapp.exchange.pipeline import run_import
from townapp.sheets import all_sheet_specs

from .conftest import pid, write_xlsx

HEADER = ["身份证号", "姓名", "性别", "出生日期", "民族", "文化程度", "联系电话", "所属村", "户编号", "与户主关系", "备注"]
printable = st.characters(blacklist_categories=("Cs", "Cc"))
cells = st.one_of(
    st.none(),
    st.text(printable, max_size=25),
    st.sampled_from(["", " ", "男", "女", "2", "汉", "1970-03-15", "1970年3月", "0001", "户主", "东张村", "=1+1",
                     "1.40821E+17", "13812345678", "140821100201", "示例", "注：", pid(1970, 11), pid(1970, 11).lower()]),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 1, 1)),
    st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 1, 1)),
    st.booleans(),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(row=st.lists(cells, min_size=len(HEADER), max_size=len(HEADER)), extra=cells, header_noise=cells)
def test_arbitrary_cells_are_accepted_or_reported(db: Database, villages: tuple[int, int], row: list[Any],
                                                  extra: Any, header_noise: Any) -> None:
    sheets = {"人员": [[*HEADER, header_noise], [pid(1970, 11), "张三", "男", None, None, None, None, "东张村"],
                      [*row, extra]]}
    with tempfile.TemporaryDirectory() as folder:
        path = write_xlsx(Path(folder) / "in.xlsx", sheets)
        report = run_import(db, path, all_sheet_specs(), dry_run=True)
    assert report.status in ("ok", "rejected")
    for error in report.errors:
        assert error.code and error.message and error.sheet == "人员" and error.row >= 1


@settings(max_examples=300, deadline=None)
@given(kind=st.sampled_from(s.KINDS), value=cells)
def test_normalise_raises_only_cell_errors(kind: str, value: Any) -> None:
    column = s.ColumnSpec("x", "测试列", kind, choices=("男", "女"), synonyms={"1": "男"},
                          pattern=r"\d{12}" if kind == s.CODE else None, max_length=20)
    try:
        normalize_cell(column, value)
    except CellError as exc:
        assert exc.code and exc.message

"""One cell, one meaning: what a clerk types on the score grid and the same text in a returned workbook.

The two used to disagree: “×”, “N” or “no” in a 否决 cell triggered the veto on the grid but meant
“not triggered” in a workbook. Both now read cells with evaluations/validation.py; this story sends each
cell of a table through both paths and compares what is stored.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from townapp.db import Database
from townapp.evaluations.service import EvaluationService
from townapp.evaluations.sheets import import_stage_workbook, write_stage_workbook
from townapp.registry.service import RegistryService
from townapp.ui.pages.evaluations import ScoreModel

from ..evaluations.conftest import build_world, new_round
from ..figures import record

NEGATIVE_CELLS = [  # typed into 涉黄赌毒（否决） → the stored note (None: not triggered)
    ("×", None), ("N", None), ("n", None), ("no", None), ("NO", None), ("否", None), ("无", None), ("没有", None),
    ("0", None), ("", None), ("  ", None), ("ｎｏ", None),
    ("是", ""), ("√", ""), ("✓", ""), ("1", ""), ("１", ""), ("有", ""), ("Y", ""), ("yes", ""), (" 是 ", ""),
    ("2025年参与赌博被处罚", "2025年参与赌博被处罚"), ("赌博  被处罚", "赌博 被处罚"),
]
STAR_CELLS = [  # typed into 爱党爱国 (a star) → the stored score (None: not filled)
    ("1", Decimal(1)), ("★", Decimal(1)), ("√", Decimal(1)), ("是", Decimal(1)), ("Y", Decimal(1)),
    ("0", Decimal(0)), ("☆", Decimal(0)), ("×", Decimal(0)), ("否", Decimal(0)), ("N", Decimal(0)),
    ("no", Decimal(0)), ("", None),
]
REFUSED_STAR_CELLS = ("2", "好", "★★")


@pytest.fixture
def sheet(app, db: Database, registry: RegistryService) -> tuple[EvaluationService, int, ScoreModel]:  # noqa: ANN001
    world = build_world(registry)
    service = EvaluationService(db)
    assert not service.sync_schemes().refused
    round_id = new_round(service, world, "civilized_household", 2025, villages=("东张村",))
    model = ScoreModel(service)
    model.load(service.round(round_id), "self", None)
    return service, round_id, model


def _grid(service: EvaluationService, round_id: int, model: ScoreModel, header: str, typed: str) -> tuple[Any, Any]:
    """Type ``typed`` into the first row's ``header`` cell of the grid and save it as the grid does."""
    column = next(c for c in model.columns if c.header.replace("\n", "").startswith(header))
    row = model.rows[0]
    service.save_entries([model.entry_for(row, [(column, typed)])])
    saved = service.sheet(round_id, target_ids=[row.target_id])[0]
    return saved.negatives.get("N02"), saved.scores.get("S01")


def _workbook(service: EvaluationService, round_id: int, target_id: int, header: str, typed: str,
              path: Path) -> tuple[Any, Any]:
    """Write ``typed`` into the same cell of the round's stage workbook and import it."""
    book = write_stage_workbook(service, round_id, path)
    wb = load_workbook(book)
    ws = wb.active
    headers = [c.value for c in ws[2]]
    line = next(r for r in range(3, ws.max_row + 1) if ws.cell(row=r, column=1).value == target_id)
    ws.cell(row=line, column=headers.index(header) + 1, value=typed or None)
    wb.save(book)
    report = import_stage_workbook(service, round_id, book)
    assert report.accepted, [e.message for e in report.errors]
    saved = service.sheet(round_id, target_ids=[target_id])[0]
    return saved.negatives.get("N02"), saved.scores.get("S01")


def test_the_same_cell_means_the_same_on_the_grid_and_in_a_workbook(sheet, tmp_path: Path) -> None:  # noqa: ANN001
    """GIVEN a 星级文明户 round at 户自评, its score grid and its stage workbook
    WHEN each cell of a table is typed into a 否决 column and a star column on the grid, and written into the
    same cell of the workbook and imported
    THEN both store the same value, the one the table expects (× / N / no / 否 / 无 / 0 / empty: not triggered;
    是 / √ / 1: triggered without a note; other text: triggered with it as the note)."""
    service, round_id, model = sheet
    target = model.rows[0].target_id
    for typed, expected in NEGATIVE_CELLS:
        on_grid = _grid(service, round_id, model, "涉黄赌毒", typed)[0]
        in_book = _workbook(service, round_id, target, "涉黄赌毒（否决）", typed, tmp_path / "户自评.xlsx")[0]
        assert on_grid == in_book == expected, typed
    for typed, expected in STAR_CELLS:
        on_grid = _grid(service, round_id, model, "爱党爱国", typed)[1]
        in_book = _workbook(service, round_id, target, "爱党爱国", typed, tmp_path / "户自评.xlsx")[1]
        assert on_grid == in_book == expected, typed
    record("评分格与导入同一格的取值（对照条数）", len(NEGATIVE_CELLS) + len(STAR_CELLS))


def test_a_cell_neither_path_can_read_is_refused_by_both(sheet, tmp_path: Path) -> None:  # noqa: ANN001
    """GIVEN the same round
    WHEN a star cell holds 2, 好 or ★★
    THEN the grid refuses it with a message and the workbook import is rejected, and nothing is saved."""
    service, round_id, model = sheet
    column = next(c for c in model.columns if c.header.startswith("爱党爱国"))
    target = model.rows[0].target_id
    for typed in REFUSED_STAR_CELLS:
        with pytest.raises(ValueError, match="爱党爱国"):
            model.entry_for(model.rows[0], [(column, typed)])
        book = write_stage_workbook(service, round_id, tmp_path / "户自评.xlsx")
        wb = load_workbook(book)
        ws = wb.active
        headers = [c.value for c in ws[2]]
        ws.cell(row=3, column=headers.index("爱党爱国") + 1, value=typed)
        wb.save(book)
        assert not import_stage_workbook(service, round_id, book).accepted, typed
    assert service.sheet(round_id, target_ids=[target])[0].scores == {}

"""The score sheet's cell rules (evaluations/validation.py) and a returned workbook audited per entry."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from townapp.accounts.audit import AuditService
from townapp.accounts.dto import AuditFilter
from townapp.core.actor import ROLE_ADMIN, Actor
from townapp.evaluations import validation as cells
from townapp.evaluations.schemes import vocabulary
from townapp.evaluations.service import EvaluationService
from townapp.evaluations.sheets import import_stage_workbook, write_stage_workbook

from .conftest import World, new_round


def test_yes_and_no_words_come_from_the_vocabulary_file() -> None:
    """GIVEN the 评定用语 file's cell_answers
    WHEN a negative-item cell holds one of its words, in any case or width
    THEN each "no" word leaves the item untriggered and each "yes" word triggers it without a note."""
    words = vocabulary()["cell_answers"]
    for word in words["no"]:
        assert cells.parse_negative(word) is None and cells.parse_negative(word.upper()) is None, word
    for word in words["yes"]:
        assert cells.parse_negative(word) == "" and cells.parse_negative(f" {word} ") == "", word
    assert cells.parse_negative("参与赌博被处罚") == "参与赌博被处罚"
    assert cells.parse_negative("x" * 300) == "x" * cells.NOTE_LENGTH


@pytest.mark.parametrize(("measure", "typed", "expected"), [
    ("stars", "★", Decimal(1)), ("stars", "☆", Decimal(0)), ("stars", "达标", Decimal(1)),
    ("checks", "达标", Decimal(1)), ("checks", "未达标", Decimal(0)), ("checks", "×", Decimal(0)),
    ("score", "3.5", Decimal("3.5")), ("score", "４分", Decimal(4)), ("score", " ", None), ("score", None, None),
])
def test_a_score_cell_is_read_one_way(measure: str, typed: str | None, expected: Decimal | None) -> None:
    """GIVEN a score cell of a star, check or score scheme WHEN it is read THEN it holds the expected value."""
    assert cells.parse_score(measure, "指标", typed) == expected


@pytest.mark.parametrize(("measure", "typed"), [("stars", "2"), ("checks", "好"), ("score", "好"), ("score", "NaN")])
def test_a_score_cell_that_cannot_be_read_is_refused(measure: str, typed: str) -> None:
    """GIVEN a cell that is no score WHEN it is read THEN it is refused, naming the indicator."""
    with pytest.raises(cells.CellError, match="指标"):
        cells.parse_score(measure, "指标", typed)


def test_a_returned_workbook_is_audited_per_entry_with_its_batch(evaluations: EvaluationService, world: World,
                                                                  tmp_path: Path) -> None:
    """GIVEN the 户自评 workbook of a household round, filled for one household with a veto written out
    WHEN it is imported
    THEN the audit viewer lists each entry it created (one per row of the workbook) under the import's batch."""
    round_id = new_round(evaluations, world, "civilized_household", 2025, villages=("东张村",))
    book = write_stage_workbook(evaluations, round_id, tmp_path / "户自评.xlsx")
    wb = load_workbook(book)
    ws = wb.active
    headers = [c.value for c in ws[2]]
    for col in range(5, 15):
        ws.cell(row=3, column=col, value="★")
    ws.cell(row=3, column=headers.index("涉黄赌毒（否决）") + 1, value="×")
    wb.save(book)
    report = import_stage_workbook(evaluations, round_id, book)
    assert report.accepted and report.batch_id is not None
    audit = AuditService(evaluations.db, Actor("admin", ROLE_ADMIN))
    rows = audit.rows(audit.ids(AuditFilter(batch_id=report.batch_id))).values()
    created = [r for r in rows if r.entity == "评定填报" and r.action == "新增"]
    assert len(created) == ws.max_row - 2 == 3
    assert all(r.reason == "导入文件 户自评.xlsx" for r in created)
    assert evaluations.sheet(round_id)[0].negatives == {}  # × in a 否决 cell: not triggered

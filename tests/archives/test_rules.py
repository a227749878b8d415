"""Every validation rule of resources/archives/rules.json: a passing and a failing case, with its message.

The rules are data; these stories pin down what the shipped file says and
that the service refuses errors, keeps warnings and marks the right fields.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from townapp.archives import rules as r
from townapp.archives.dto import CadreData, CommitmentData, RectificationData, YearData
from townapp.archives.service import ArchiveService
from townapp.core.errors import ValidationFailed
from townapp.core.resources import ResourceError

from .conftest import Village

GOOD_YEAR = dict(operating_income=30_000_00, contract_income=10_000_00, investment_income=5_000_00,
                 subsidy_income=20_000_00, other_income=1_000_00, total_income=66_000_00,
                 business_income=46_000_00, debt_opening=50_000_00, debt_new=2_000_00, debt_resolved=12_000_00,
                 debt_closing=40_000_00)


def _ids(violations: list[r.Violation]) -> set[str]:
    return {v.rule_id for v in violations}


def test_a_consistent_year_breaks_no_rule() -> None:
    assert r.check_year(GOOD_YEAR) == []


def test_income_identity() -> None:
    # GIVEN a total that is not the sum of the five incomes
    found = r.check_year({**GOOD_YEAR, "total_income": 65_000_00})
    # THEN the identity rule fails with both sums in 元, on the total field
    (v,) = [v for v in found if v.rule_id == "income_identity"]
    assert v.severity == "error" and v.fields == ("total_income",)
    assert v.message == "总收入（65,000.00元）应等于经营收入、发包及上交收入、投资收益、补助收入、其他收入之和（66,000.00元）"


def test_income_identity_is_not_applied_to_incomplete_figures() -> None:
    assert "income_identity" not in _ids(r.check_year({**GOOD_YEAR, "other_income": None}))


def test_business_income_within_total() -> None:
    found = r.check_year({**GOOD_YEAR, "business_income": 70_000_00})
    (v,) = [v for v in found if v.rule_id == "business_within_total"]
    assert v.message == "经营性收入（70,000.00元）不能大于总收入（66,000.00元）"
    assert "business_within_total" not in _ids(r.check_year(GOOD_YEAR))


def test_business_income_excludes_subsidy_is_a_warning() -> None:
    found = r.check_year({**GOOD_YEAR, "business_income": 50_000_00})
    (v,) = [v for v in found if v.rule_id == "business_excludes_subsidy"]
    assert v.severity == "warning"
    assert v.message == "经营性收入（50,000.00元）不含补助收入，应不大于总收入减补助收入（46,000.00元）"


def test_debt_roll_forward() -> None:
    found = r.check_year({**GOOD_YEAR, "debt_closing": 41_000_00})
    (v,) = [v for v in found if v.rule_id == "debt_roll_forward"]
    assert v.message == "年末债务余额（41,000.00元）应等于年初余额加新增减化解（40,000.00元）"
    assert "debt_roll_forward" not in _ids(r.check_year(GOOD_YEAR))


def test_no_negative_amounts() -> None:
    found = r.check_year({"debt_new": -100, "funding_received": 5})
    (v,) = [v for v in found if v.rule_id == "non_negative"]
    assert v.fields == ("debt_new",) and v.message == "本年新增债务不能为负数（现为-1.00元）"
    assert r.check_year({"debt_new": 0}) == []


def _cadre(pid: int, name: str, post: str, start: str, end: str | None = None, shoulder: bool = False) -> r.CadreFact:
    return r.CadreFact(pid, name, post, shoulder, dt.date.fromisoformat(start),
                       dt.date.fromisoformat(end) if end else None)


def test_one_secretary_at_a_time() -> None:
    # GIVEN a secretary who left in 2021 and a successor: fine
    history = [_cadre(1, "张建国", "书记", "2018-01-15", "2021-02-28"), _cadre(2, "李秀英", "书记", "2021-03-01")]
    assert r.check_cadres(history) == []
    # WHEN the old secretary's end date is missing, both hold the post at once
    overlap = [_cadre(1, "张建国", "书记", "2018-01-15"), _cadre(2, "李秀英", "书记", "2021-03-01")]
    (v,) = r.check_cadres(overlap)
    assert v.rule_id == "one_secretary" and v.message == "同一时间只能有一名书记：张建国与李秀英的任职时间重叠"


def test_one_shoulder_means_the_same_person_is_director() -> None:
    same = [_cadre(1, "张建国", "书记", "2021-03-01", shoulder=True), _cadre(1, "张建国", "主任", "2021-03-01")]
    assert r.check_cadres(same) == []
    other = [_cadre(1, "张建国", "书记", "2021-03-01", shoulder=True), _cadre(2, "赵敏", "主任", "2021-03-01")]
    (v,) = r.check_cadres(other)
    assert v.rule_id == "one_shoulder"
    assert v.message == "张建国标为一肩挑，但同一时期的主任是赵敏：一肩挑须由同一人兼任书记和主任"
    alone = [_cadre(1, "张建国", "书记", "2021-03-01", shoulder=True)]
    assert "空缺" in r.check_cadres(alone)[0].message


def test_three_to_five_commitments_a_year_is_a_warning() -> None:
    assert r.check_commitment_counts({2025: 3, 2024: 5}) == []
    (v,) = r.check_commitment_counts({2025: 2})
    assert v.severity == "warning" and v.year == 2025 and v.message == "2025年为民办实事承诺事项有2项，应为3至5项"
    assert r.check_commitment_counts({2025: 6})[0].message == "2025年为民办实事承诺事项有6项，应为3至5项"


def test_acceptance_result_follows_the_pass_mark() -> None:
    assert r.check_rectification(2023, Decimal("70"), "通过", 70) == []
    (v,) = r.check_rectification(2023, Decimal("69.5"), "通过", 70)
    assert v.message == "2023年软弱涣散验收得分69.5分，合格线70分，验收结果应为“未通过”"


def test_rules_are_read_from_data(tmp_path: Path) -> None:
    # GIVEN a rules file where the debt rule is only a warning with another message
    data = json.loads(Path(r.__file__).resolve().parents[2].joinpath("resources/archives/rules.json").read_text("utf-8"))
    for rule in data["rules"]:
        if rule["id"] == "debt_roll_forward":
            rule["severity"], rule["message"] = "warning", "债务对不上：{left}/{right}"
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    # WHEN the figures break it THEN the edited rule speaks
    (v,) = r.check_year({**GOOD_YEAR, "debt_closing": 1}, r.load_rules(path))
    assert (v.severity, v.message) == ("warning", "债务对不上：0.01/40,000.00")


def test_a_malformed_rule_file_fails_at_load(tmp_path: Path) -> None:
    path = tmp_path / "rules.json"
    path.write_text(json.dumps({"rules": [{"id": "x", "kind": "formula", "entity": "year", "severity": "error",
                                           "left": "a +* b", "op": "==", "right": "c", "message": ""}]}), "utf-8")
    with pytest.raises(ResourceError, match=r"rules\.json(.|\n)*rules 第1项 → left：规则表达式无法识别"):
        r.load_rules(path)


# ----- the service applies them ----------------------------------------------------
def test_saving_a_year_refuses_errors_and_keeps_warnings(archives: ArchiveService, village: Village) -> None:
    with pytest.raises(ValidationFailed) as caught:
        archives.save_year(YearData(village.id, 2025, {**GOOD_YEAR, "total_income": 1}))
    assert any(p.field == "total_income" and p.severity == "error" for p in caught.value.problems)
    assert archives.years(village.id) == []
    warnings = archives.save_year(YearData(village.id, 2025, {**GOOD_YEAR, "business_income": 46_000_00 + 1}))
    assert [w.field for w in warnings] == ["business_income"]
    assert archives.year(village.id, 2025).values["total_income"] == 66_000_00


def test_saving_cadres_checks_the_post_rules(archives: ArchiveService, village: Village) -> None:
    p = village.people
    start = dt.date(2021, 3, 1)
    with pytest.raises(ValidationFailed) as caught:
        archives.save_cadres(village.id, [CadreData(p["张建国"], "书记", True, start),
                                          CadreData(p["赵敏"], "主任", False, start)])
    assert "一肩挑" in caught.value.message
    archives.save_cadres(village.id, [CadreData(p["张建国"], "党支部书记", True, start),
                                      CadreData(p["张建国"], "村委会主任", True, start)])
    assert [(c.name, c.post) for c in archives.cadres(village.id)] == [("张建国", "书记"), ("张建国", "主任")]


def test_commitments_warn_but_save(archives: ArchiveService, village: Village) -> None:
    warnings = archives.save_commitments(village.id, 2025, [CommitmentData(2025, "硬化道路500米")])
    assert [w.message for w in warnings] == ["2025年为民办实事承诺事项有1项，应为3至5项"]
    assert len(archives.commitments(village.id, 2025)) == 1


def test_rectification_result_against_the_pass_mark(archives: ArchiveService, village: Village) -> None:
    with pytest.raises(ValidationFailed) as caught:
        archives.save_rectification(village.id, RectificationData(2023, ["3"], accepted_on=dt.date(2024, 1, 10),
                                                                  score=Decimal("60"), result="通过"))
    assert "合格线70分" in caught.value.message

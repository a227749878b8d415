"""Scheme files: every shipped one loads; a broken one is refused naming the file, the place and the problem."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from townapp.db import Database
from townapp.evaluations.engine import EntryData, evaluate, roll_up
from townapp.evaluations.schemes import SchemeError, load_file, shipped_folder, shipped_schemes
from townapp.evaluations.service import EvaluationService


def test_the_six_shipped_scheme_families_load() -> None:
    # GIVEN resources/schemes/ WHEN every file is loaded THEN all eight files (six families) are valid
    schemes = {s.key: s for s in shipped_schemes()}
    assert set(schemes) == {"civilized_household", "secretary_monthly", "secretary_quarterly", "secretary_star",
                            "village_org_star", "head_goose_index", "weak_org_acceptance", "village_creation"}
    household = schemes["civilized_household"]
    assert [i.name for i in household.indicators] == ["爱党爱国", "诚实守信", "遵纪守法", "勤劳致富", "孝老爱亲",
                                                      "助人为乐", "环保卫生", "勤俭节约", "移风易俗", "文明礼貌"]
    assert [s.name for s in household.stages] == ["户自评", "组互评", "联评", "村两委初审", "乡镇终审", "公示"]
    assert [lv.name for lv in schemes["secretary_star"].levels] == [f"{n}星" for n in "九八七六五四三二一"]
    creation = schemes["village_creation"]
    assert len(creation.categories) == 10 and "集体经济年经营性收入 ≥ 3万元" in [i.name for i in creation.indicators]


def _broken(tmp_path: Path, mutate) -> Path:  # noqa: ANN001
    data = json.loads((shipped_folder() / "village_org_star.json").read_text(encoding="utf-8"))
    mutate(data)
    path = tmp_path / "my_scheme.json"
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


@pytest.mark.parametrize(("mutate", "place", "problem"), [
    (lambda d: d["categories"][1]["indicators"][0].update(max="四分"),
     "categories 第2项（班子队伍） → indicators 第1项 → max", "应为数字"),
    (lambda d: d["negatives"][4].update(cap="六星"), "negatives 第5项 → cap", "不在 levels 中"),
    (lambda d: d["levels"][2].update(min=95), "levels 第3项 → min", "逐级降低"),
    (lambda d: d.update(target="village"), "target", "应为以下之一：household / party_secretary"),
    (lambda d: d["stages"].insert(0, {"key": "pub", "name": "公示", "actor": "乡镇", "kind": "publicity"}),
     "stages 第1项", "第一个环节不能是公示"),
    (lambda d: d.update(treshold=3), "treshold", "不认识的字段"),
    (lambda d: d["categories"][0]["indicators"].append({"code": "A1", "name": "重复", "max": 1}),
     "categories 第1项（组织体系） → indicators 第6项 → code", "编码“A1”重复"),
])
def test_a_malformed_scheme_is_refused_with_file_place_and_problem(tmp_path: Path, mutate, place: str,
                                                                   problem: str) -> None:  # noqa: ANN001
    # GIVEN a scheme file with one mistake
    path = _broken(tmp_path, mutate)
    # WHEN it is loaded THEN it is refused, and the message names the file, the place and the problem
    with pytest.raises(SchemeError) as caught:
        load_file(path)
    message = caught.value.message
    assert "my_scheme.json" in message and place in message and problem in message, message


def test_broken_json_names_the_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "typo.json"
    path.write_text('{\n  "key": "typo",\n  "name": "少逗号"\n  "target": "household"\n}', encoding="utf-8")
    with pytest.raises(SchemeError, match=r"typo\.json.*\n第4行第3列：不是有效的JSON（缺少逗号）"):
        load_file(path)


def test_a_refused_file_does_not_stop_the_others(db: Database, tmp_path: Path) -> None:
    # GIVEN the shipped folder plus one broken file
    folder = tmp_path / "schemes"
    shutil.copytree(shipped_folder(), folder)
    (folder / "broken.json").write_text('{"key": "broken"}', encoding="utf-8")
    # WHEN the schemes are read
    report = EvaluationService(db, scheme_folder=folder).sync_schemes()
    # THEN the eight good ones are there and the broken one is reported with what is missing
    assert len(report.added) == 8 and len(report.refused) == 1
    assert "broken.json" in report.refused[0].message and "name：缺少必填项" in report.refused[0].message


def test_the_engine_gives_the_same_result_for_the_same_inputs() -> None:
    # GIVEN the 评星定级 scheme and one entry
    scheme = next(s for s in shipped_schemes() if s.key == "village_org_star")
    entry = EntryData({i.code: Decimal("3.5") for i in scheme.indicators}, frozenset({"F12", "F19"}))
    # WHEN it is evaluated many times THEN the outcome never differs (87.5 → 四星, capped to 三星 by F12)
    outcomes = {evaluate(scheme, entry) for _ in range(50)}
    assert len(outcomes) == 1
    outcome = outcomes.pop()
    assert (outcome.level, outcome.measure, outcome.rank) == ("三星", Decimal("87.5"), 3)
    assert outcome.reasons == ("村务财务公开不规范，最高评为三星",)


def test_roll_up_methods() -> None:
    values = [Decimal("90.5"), Decimal("88"), Decimal("91")]
    assert roll_up(values, "mean") == Decimal("89.8")
    assert roll_up(values, "sum") == Decimal("269.5")
    assert roll_up(values, "min") == Decimal("88") and roll_up(values, "max") == Decimal("91")
    assert roll_up([], "mean") is None

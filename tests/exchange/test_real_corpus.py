"""Workbooks as villages and other systems really make them, imported as a township clerk would.

GIVEN a fresh copy of the demo township (临晋镇, seed 1) and a workbook of the
      real-layout corpus (tests/exchange/real_corpus: a village's own 党员花名册,
      a town system's export, a 党费 or 积分 ledger, a census-style 人口登记表,
      WPS and .xls/.ods files, hostile files), built from code by build.py
WHEN  ``townapp import --db DB FILE --dry-run --report r.json [--mapping MAP]`` runs
THEN  the outcome is the one manifest.json names for it — accepted with that many
      rows and each sheet taken as that entity, or rejected with those error
      codes — and the report says, for every sheet, which entity it was taken as
      and which columns were used and which ignored (never a silent misread).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.exchange.real_corpus.build import BUILDERS, MAPPINGS, build_all, manifest
from tests.figures import record
from townapp.cli import main

ENTRIES = manifest()
_MATCHED: set[str] = set()


@pytest.fixture(scope="session")
def real_corpus(built_demo: Callable[..., Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every corpus file and mapping file, built once per session from the demo township."""
    return build_all(tmp_path_factory.mktemp("real-corpus"), built_demo("township", 1))


def test_manifest_names_a_source_for_every_file() -> None:
    """GIVEN the manifest THEN it has at least 25 workbooks, each built by build.py, each naming the public
    source of its layout and what it reproduces, with an outcome the corpus test can check."""
    files = {entry["file"] for entry in ENTRIES}
    assert len(files) >= 25
    assert len({entry["id"] for entry in ENTRIES}) == len(ENTRIES)
    assert files == set(BUILDERS), "manifest and build.py name different files"
    for entry in ENTRIES:
        assert entry["source"].strip() and entry["reproduces"].strip(), entry["id"]
        if entry["expect"] == "accept":
            assert entry["rows"] > 0 and entry["entities"], entry["id"]
        else:
            assert entry["expect"] == "reject" and entry["codes"], entry["id"]
        if "mapping" in entry:
            assert entry["mapping"] in MAPPINGS, entry["id"]
    accepted = sum(entry["expect"] == "accept" for entry in ENTRIES)
    record("真实版式样本（清单）", f"{len(files)} 个文件，{len(ENTRIES)} 条预期（{accepted} 条应导入，"
                             f"{len(ENTRIES) - accepted} 条应拒绝或需确认列对应）")


def _run_cli(entry: dict[str, Any], corpus: dict[str, Path], demo: Path, tmp_path: Path,
             capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    db = tmp_path / "township.db"
    shutil.copyfile(demo, db)
    report_path = tmp_path / "r.json"
    argv = ["import", "--db", str(db), str(corpus[entry["file"]]), "--dry-run", "--report", str(report_path)]
    if "mapping" in entry:
        argv += ["--mapping", str(corpus[entry["mapping"]])]
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse: an option the CLI does not know yet
        pytest.fail(f"命令行拒绝了参数（退出码 {exc.code}）：{capsys.readouterr().err.strip()}")
    out = capsys.readouterr()
    assert report_path.exists(), f"没有写出报告（退出码 {code}）：{out.out.strip()} {out.err.strip()}"
    return code, json.loads(report_path.read_text(encoding="utf-8"))


def _errors(report: dict[str, Any]) -> str:
    return "; ".join(f"{e['sheet']}!{e['row']} {e['column']} {e['code']}: {e['message'][:80]}"
                     for e in report.get("errors", [])[:6])


@pytest.mark.parametrize("entry", ENTRIES, ids=[entry["id"] for entry in ENTRIES])
def test_real_layout_gives_the_manifest_outcome(entry: dict[str, Any], real_corpus: dict[str, Path],
                                                built_demo: Callable[..., Path], tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """GIVEN one corpus workbook (and its confirmed column mapping, when the manifest names one)
    WHEN a township clerk test-imports it from the command line
    THEN the outcome, the entity of each sheet and the row count are those of the manifest,
    and every sheet of the report carries its entity and its used and ignored columns."""
    code, report = _run_cli(entry, real_corpus, built_demo("township", 1), tmp_path, capsys)
    sheets: dict[str, dict[str, Any]] = report["sheets"]
    if entry["expect"] == "accept":
        assert report["status"] == "ok" and code == 0, f"应导入，却被拒绝（退出码 {code}）：{_errors(report)}"
        rows = sum(s["created"] + s["updated"] + s["unchanged"] for s in sheets.values())
        assert rows == entry["rows"], f"应有 {entry['rows']} 行，报告 {rows} 行：{sheets}"
        for name, entity in entry["entities"].items():
            assert name in sheets, f"报告中没有工作表“{name}”：{list(sheets)}"
            assert sheets[name].get("entity") == entity, f"“{name}”应作为 {entity}，报告为 {sheets[name].get('entity')}"
        for name, counts in entry.get("counts", {}).items():
            got = {key: sheets[name][key] for key in counts}
            assert got == counts, f"“{name}”的计数应为 {counts}，报告为 {got}"
    else:
        assert report["status"] == "rejected" and code == 1, f"应拒绝，却通过了（退出码 {code}）：{sheets}"
        codes = {e["code"] for e in report["errors"]}
        missing = set(entry["codes"]) - codes
        assert not missing, f"应有错误代码 {sorted(missing)}，报告的是 {sorted(codes)}：{_errors(report)}"
    for name, sheet in sheets.items():
        assert "entity" in sheet, f"工作表“{name}”的报告没有 entity"
        columns = sheet.get("columns")
        assert isinstance(columns, dict) and isinstance(columns.get("used"), dict) \
            and isinstance(columns.get("ignored"), list), f"工作表“{name}”的报告没有 columns（used/ignored）：{sheet}"
    _MATCHED.add(entry["id"])
    record("真实版式样本（符合清单）", f"{len(_MATCHED)} / {len(ENTRIES)}")

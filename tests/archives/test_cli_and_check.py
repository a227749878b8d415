"""`townapp archive` and `townapp check` on a demo township: the contract of DESIGN §8 for archives."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from townapp.cli import main


@pytest.fixture
def demo_file(small_demo: Path, tmp_path: Path) -> Path:
    path = tmp_path / "demo.db"
    shutil.copyfile(small_demo, path)
    return path


def _village(path: Path) -> tuple[int, str, str]:
    con = sqlite3.connect(path)
    try:
        return con.execute("SELECT id, code, name FROM village ORDER BY code LIMIT 1").fetchone()
    finally:
        con.close()


def test_archive_command_prints_a_pdf(demo_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _vid, code, name = _village(demo_file)
    out = tmp_path / "档案.pdf"
    assert main(["archive", "--db", str(demo_file), "--village", code, "--out", str(out)]) == 0
    assert out.read_bytes().startswith(b"%PDF-")
    assert f"已生成 {name} 的一村一档" in capsys.readouterr().out


def test_archive_command_refuses_an_unknown_village(demo_file: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["archive", "--db", str(demo_file), "--village", "999999999999", "--out", str(tmp_path / "x.pdf")]) == 1
    assert "没有区划代码为 999999999999 的村/社区" in capsys.readouterr().err
    assert not (tmp_path / "x.pdf").exists()


def test_check_passes_on_the_demo_and_fails_naming_village_year_and_rule(
        demo_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN the demo township WHEN checked THEN it passes
    assert main(["check", "--db", str(demo_file)]) == 0
    assert "检查通过" in capsys.readouterr().out
    # WHEN one income figure of one village-year is broken (as a careless edit in another tool would)
    vid, code, name = _village(demo_file)
    con = sqlite3.connect(demo_file)
    con.execute("UPDATE archive_year SET other_income = other_income + 100 WHERE village_id = ? AND year = 2024", (vid,))
    con.commit()
    con.close()
    # THEN check exits 1 and names the village, the year and the rule
    assert main(["check", "--db", str(demo_file)]) == 1
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith("错误："))
    assert name in line and code in line and "2024年" in line and "income_identity" in line and "总收入" in line
    assert main(["check", "--db", str(demo_file), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["archive_rule_errors"] == 1 and not report["ok"]

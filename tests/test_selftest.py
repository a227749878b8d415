"""``townapp selftest``: passes on a working install, and each check fails when its input is broken.

Story: IT staff install the program on a township laptop and run the self-test
before handing it over. It must say "通过" only when fonts, Qt, migrations,
Excel, PDF and charts really work there, and name exactly what is broken otherwise.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import matplotlib
import pytest

from townapp.core import syslibs
from townapp.core.resources import ResourceError
from townapp.selftest import (
    CHECKS,
    CheckResult,
    SelftestInputs,
    resource_characters,
    run_check,
    selftest_report,
    source_characters,
    with_inputs,
)

ROOT = Path(__file__).resolve().parent.parent
LATIN_ONLY_FONT = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "townapp", *args], cwd=ROOT, capture_output=True, text=True,
                          encoding="utf-8", timeout=300,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONIOENCODING": "utf-8",
                               **(env or {})})


def check(name: str, inputs: SelftestInputs) -> CheckResult:
    (found,) = [c for c in CHECKS if c.name == name]
    return run_check(found, inputs)


@pytest.fixture
def inputs(tmp_path: Path) -> SelftestInputs:
    """What the program itself would use, with a private work folder."""
    work = tmp_path / "work"
    work.mkdir()
    return SelftestInputs.defaults(work)


def test_selftest_passes_on_the_source_tree_and_reports_json() -> None:
    # GIVEN the source tree WHEN `townapp selftest --json` runs
    result = run_cli("selftest", "--json")
    # THEN it exits 0 and every check is reported with name, ok and a Chinese message
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True and report["frozen"] is False
    assert [c["name"] for c in report["checks"]] == ["font", "qt", "migrations", "xlsx", "pdf", "chart",
                                                          "id_regions"]
    assert all(c["ok"] and c["message"] for c in report["checks"])
    assert "qtbase_zh_CN.qm" in report["checks"][1]["message"]
    # AND it lists the system libraries Qt's window would lack here (none on a complete desktop)
    assert all(set(item) == {"soname", "package"} for item in report["missing_system_libraries"])
    assert (report["install_command"] is None) == (not report["missing_system_libraries"])


def test_broken_resources_make_the_command_exit_1_naming_the_failures(tmp_path: Path) -> None:
    # GIVEN resources without the bundled font (as a bundle that forgot it would be)
    resources = tmp_path / "resources"
    shutil.copytree(ROOT / "resources", resources, ignore=shutil.ignore_patterns("*.ttc"))
    # WHEN the self-test runs against them
    result = run_cli("selftest", "--json", env={"TOWNAPP_RESOURCES": str(resources)})
    # THEN it exits 1, says in Chinese which checks failed, and the JSON marks exactly those
    assert result.returncode == 1
    assert "自检未通过" in result.stderr and "内置字体" in result.stderr
    report = json.loads(result.stdout)
    failed = {c["name"] for c in report["checks"] if not c["ok"]}
    assert report["ok"] is False
    assert failed == {"font", "qt", "pdf", "chart"}
    font = next(c for c in report["checks"] if c["name"] == "font")
    assert "内置字体不存在" in font["message"]


def test_the_plain_text_report_says_pass_or_fail_per_check() -> None:
    result = run_cli("selftest")
    assert result.returncode == 0, result.stderr
    assert "自检通过" in result.stdout
    assert result.stdout.count("通过  ") == len(CHECKS)


def test_font_check_fails_for_a_missing_font_or_a_missing_character(inputs: SelftestInputs, tmp_path: Path) -> None:
    # GIVEN the real inputs THEN the font check passes
    assert check("font", inputs).ok
    # WHEN the font path points nowhere THEN it fails saying so
    result = check("font", replace(inputs, font_path=tmp_path / "nowhere.ttc"))
    assert not result.ok and "内置字体不存在" in result.message
    # WHEN the font has no Chinese THEN it fails listing missing characters
    result = check("font", replace(inputs, font_path=LATIN_ONLY_FONT))
    assert not result.ok and "字体缺少" in result.message
    # WHEN a resource file holds a character the font lacks (CJK Extension B) THEN it fails naming it
    resources = tmp_path / "resources"
    shutil.copytree(inputs.resources_dir, resources)
    (resources / "extra.json").write_text(json.dumps({"名称": "𠀀村"}, ensure_ascii=False), encoding="utf-8")
    result = check("font", replace(inputs, resources_dir=resources))
    assert not result.ok and "𠀀" in result.message


def test_resource_characters_are_read_by_the_loader(inputs: SelftestInputs, tmp_path: Path) -> None:
    """GIVEN a resources folder with a score-cell answer (typed, never shown) and then a broken JSON file
    WHEN its characters are collected, and the font check runs over it
    THEN the answers' spellings are left out but their key is not; the broken file is refused in Chinese
    naming the file and the place (no English JSONDecodeError), and the font check reports that message."""
    resources = tmp_path / "res"
    resources.mkdir()
    (resources / "cells.json").write_text(json.dumps({"评分": {"cell_answers": {"否决": ["㐀"]}}}, ensure_ascii=False),
                                          encoding="utf-8")
    assert resource_characters(resources) == {"评", "分"}

    (resources / "broken.json").write_text('{"名称": "村",}', encoding="utf-8")
    with pytest.raises(ResourceError) as caught:
        resource_characters(resources)
    assert "broken.json" in caught.value.message and "第1行" in caught.value.message

    result = check("font", replace(inputs, resources_dir=resources))
    assert not result.ok and "broken.json" in result.message and "JSONDecodeError" not in result.message


def test_app_characters_come_from_string_literals_not_docstrings(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "mod.py").write_text('"""模块说明㐀"""\n\nTITLE = "台账"\nLABEL = f"共{1}户"\n', encoding="utf-8")
    chars = source_characters(package)
    assert {"台", "账", "共", "户"} <= chars
    assert "㐀" not in chars and "模" not in chars


def test_frozen_build_uses_the_character_list_written_at_build_time(inputs: SelftestInputs, tmp_path: Path) -> None:
    # GIVEN no sources (as in a frozen build) but a build-info file listing the app's characters
    info = tmp_path / "townapp_build.json"
    info.write_text(json.dumps({"version": "0", "characters": "乡镇𠀀"}, ensure_ascii=False), encoding="utf-8")
    result = check("font", replace(inputs, source_dir=None, build_info=info))
    # THEN those characters are checked (and the one the font lacks is reported)
    assert not result.ok and "𠀀" in result.message
    # AND without sources or a list the check fails instead of passing vacuously
    result = check("font", replace(inputs, source_dir=None, build_info=None))
    assert not result.ok and "程序文字清单" in result.message


def test_qt_check_fails_without_translations_or_with_an_unloadable_platform(inputs: SelftestInputs,
                                                                             tmp_path: Path) -> None:
    # WHEN Qt's translations folder lacks qtbase_zh_CN.qm THEN the Qt check fails naming the file
    result = check("qt", replace(inputs, qt_platform="offscreen", qt_translations_dir=tmp_path))
    assert not result.ok and "qtbase_zh_CN.qm" in result.message
    # WHEN the platform plugin cannot be loaded (Qt aborts the process) THEN the check fails, not the self-test
    result = check("qt", replace(inputs, qt_platform="no-such-platform"))
    assert not result.ok and "Qt 无法启动" in result.message


@pytest.mark.filterwarnings("ignore:Revision 0001")
def test_migration_check_fails_without_the_scripts(inputs: SelftestInputs, tmp_path: Path) -> None:
    assert check("migrations", inputs).ok
    result = check("migrations", replace(inputs, migrations_dir=tmp_path / "missing"))
    assert not result.ok and "数据库升级脚本不存在" in result.message
    # GIVEN scripts whose chain is broken (one revision missing) THEN the upgrade fails
    scripts = tmp_path / "migrations"
    shutil.copytree(inputs.migrations_dir, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    versions = sorted((scripts / "versions").glob("0001_*.py"))
    versions[0].unlink()
    assert not check("migrations", replace(inputs, migrations_dir=scripts)).ok


def test_xlsx_check_fails_when_the_file_cannot_be_written(inputs: SelftestInputs, tmp_path: Path) -> None:
    assert check("xlsx", inputs).ok
    result = check("xlsx", replace(inputs, work_dir=tmp_path / "not-a-folder"))
    assert not result.ok


def test_pdf_check_fails_without_the_font(inputs: SelftestInputs, tmp_path: Path) -> None:
    result = check("pdf", inputs)
    assert result.ok and "嵌入字体" in result.message
    result = check("pdf", replace(inputs, font_path=tmp_path / "nowhere.ttc"))
    assert not result.ok and "内置字体不存在" in result.message


def test_chart_check_fails_when_the_font_lacks_chinese(inputs: SelftestInputs, tmp_path: Path) -> None:
    assert check("chart", inputs).ok
    # WHEN the chart font has no Chinese glyphs THEN matplotlib's missing-glyph warnings fail the check
    result = check("chart", replace(inputs, font_path=LATIN_ONLY_FONT))
    assert not result.ok and "缺字形" in result.message
    result = check("chart", replace(inputs, font_path=tmp_path / "nowhere.ttc"))
    assert not result.ok


def test_a_missing_id_region_history_fails_its_check(inputs: SelftestInputs, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a bundle without python-stdnum's cn/loc.dat (townapp reads it itself, so PyInstaller cannot see it)
    monkeypatch.setattr(sys, "path", [str(inputs.work_dir)])
    # WHEN the check runs THEN it fails saying what is missing; with the file it names the table's size
    result = check("id_regions", inputs)
    assert not result.ok and "loc.dat" in result.message
    monkeypatch.undo()
    assert check("id_regions", inputs).ok


LDD_WITHOUT_ICCCM = "\tlibxcb-icccm.so.4 => not found\n\tlibxcb-keysyms.so.1 => not found\n"


@pytest.fixture
def laptop_without_icccm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A PySide6 folder with every start-up file, and ldd answering as on the measured laptop (issue 21)."""
    folder = tmp_path / "PySide6"
    for name in syslibs.STARTUP_FILES:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(b"\x7fELF")
    monkeypatch.setattr(syslibs, "run_ldd", lambda files: LDD_WITHOUT_ICCCM)
    return folder


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="系统库检查只在 Linux 上")
def test_qt_check_names_a_missing_system_library_and_its_package(inputs: SelftestInputs,
                                                                  laptop_without_icccm: Path) -> None:
    """GIVEN a desktop lacking libxcb-icccm4 and libxcb-keysyms1 WHEN the Qt check runs on X11 THEN it fails naming
    each .so and its package and the apt command, without starting the Qt child (which would only abort)."""
    aborting_child = (sys.executable, "-c", "raise SystemExit(99)")
    result = check("qt", replace(inputs, qt_platform="xcb", pyside_dir=laptop_without_icccm,
                                 qt_probe_command=aborting_child))
    assert not result.ok
    assert "缺少系统库 libxcb-icccm.so.4（Debian/UOS 软件包 libxcb-icccm4）" in result.message
    assert "缺少系统库 libxcb-keysyms.so.1（Debian/UOS 软件包 libxcb-keysyms1）" in result.message
    assert "sudo apt install -y libxcb-icccm4 libxcb-keysyms1" in result.message
    assert "退出码 99" not in result.message


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="系统库检查只在 Linux 上")
def test_offscreen_the_qt_check_passes_but_the_json_lists_the_missing_libraries(laptop_without_icccm: Path) -> None:
    """GIVEN the same machine without a display (offscreen) WHEN the self-test runs THEN Qt itself works, its message
    and the JSON's missing_system_libraries still say what a desktop start would lack, with the one apt command."""
    report = selftest_report(with_inputs(qt_platform="offscreen", pyside_dir=laptop_without_icccm), only=["qt"])
    (qt,) = report.checks
    assert qt.ok and "libxcb-icccm4" in qt.message
    data = json.loads(report.to_json())
    assert data["missing_system_libraries"] == [{"soname": "libxcb-icccm.so.4", "package": "libxcb-icccm4"},
                                                {"soname": "libxcb-keysyms.so.1", "package": "libxcb-keysyms1"}]
    assert data["install_command"] == "sudo apt install -y libxcb-icccm4 libxcb-keysyms1"

"""Stories of a sync package on a USB stick (issue 20, item 4): encrypted with a password the way Excel and
WPS do it, named by unit, quarter and day, and the user told where it went and that the stick can go.

GIVEN a small township (临晋镇) built through RegistryService, and the county's database (临猗县).
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import msoffcrypto
import pytest

from townapp import cli
from townapp.core.actor import CLI_ACTOR
from townapp.core.errors import ValidationFailed
from townapp.db import Database
from townapp.exchange import protect
from townapp.exchange.package import MANIFEST_SHEET, package_file_name, write_package
from townapp.exchange.pipeline import run_import
from townapp.registry.service import RegistryService
from townapp.sheets import all_sheet_specs

from .conftest import build_registry, dump_business, initialised

PASSWORD = "Linjin#2026"


@pytest.fixture
def county(another_db: Callable[[], Database]) -> Database:
    return initialised(another_db(), mode="county", name="临猗县", code="140821")


def opened_with(path: Path, password: str) -> zipfile.ZipFile:
    """The workbook inside, decrypted with the same library the county's Excel uses the format of."""
    office = msoffcrypto.OfficeFile(open(path, "rb"))  # noqa: SIM115 (read whole below)
    office.load_key(password=password, verify_password=True)
    plain = io.BytesIO()
    office.decrypt(plain)
    office.file.close()
    return zipfile.ZipFile(plain)


def test_an_encrypted_package_opens_only_with_its_password_and_the_county_imports_it(
        db: Database, registry: RegistryService, county: Database, tmp_path: Path) -> None:
    # GIVEN 临晋镇's registry and a USB stick (a folder)
    build_registry(registry)
    stick = tmp_path / "U盘"
    stick.mkdir()
    # WHEN the package is exported with a password under the name the program gives it
    name = package_file_name("临晋镇", dt.date(2026, 12, 6))
    result = write_package(db, all_sheet_specs(), stick / name, actor=CLI_ACTOR, password=PASSWORD)
    # THEN the name carries unit, quarter and day, and the stick holds only that file (no clear copy beside it)
    assert name == "临晋镇_2026年第4季度_同步数据包_20261206.xlsx"
    assert [p.name for p in stick.iterdir()] == [name]
    assert result.encrypted and protect.is_encrypted(result.path)
    # AND it is not a readable workbook without the password (an Office-encrypted container, not a zip)
    assert not zipfile.is_zipfile(result.path)
    # AND it opens with the password, read back with the same library, and holds the package's sheets
    with opened_with(result.path, PASSWORD) as book:
        assert "xl/workbook.xml" in book.namelist()
        assert MANIFEST_SHEET.encode() in book.read("xl/workbook.xml")
    # AND a wrong password is refused in Chinese
    with pytest.raises(protect.WrongPassword, match="密码不正确"):
        protect.decrypt_bytes(result.path, "linjin#2026")
    # AND the user is told where it went and that the drive can be removed
    assert str(result.path) in result.done_message() and "拔出U盘" in result.done_message()
    # WHEN the county imports it without the password, then with a wrong one, then with the right one
    missing = run_import(county, result.path, all_sheet_specs(), actor=CLI_ACTOR)
    wrong = run_import(county, result.path, all_sheet_specs(), actor=CLI_ACTOR, password="000000")
    right = run_import(county, result.path, all_sheet_specs(), actor=CLI_ACTOR, password=PASSWORD)
    # THEN the first two are refused with what to do, and the third takes every sheet the clear package would
    assert [e.code for e in missing.errors] == ["encrypted"] and "请输入密码" in missing.errors[0].message
    assert [e.code for e in wrong.errors] == ["wrong_password"] and "密码不正确" in wrong.errors[0].message
    assert right.accepted, right.summary_text()
    assert dump_business(county)["person"] and right.sheets["人员"].created == 6


def test_a_short_password_is_refused_before_anything_is_written(db: Database, registry: RegistryService,
                                                                 tmp_path: Path) -> None:
    build_registry(registry)
    with pytest.raises(ValidationFailed, match="至少6位"):
        write_package(db, all_sheet_specs(), tmp_path / "p.xlsx", actor=CLI_ACTOR, password="12345")
    assert list(tmp_path.glob("p*.xlsx*")) == []
    assert protect.password_problems(PASSWORD, "Linjin#2025")[0].message == "两次输入的密码不一致"


def test_the_command_line_names_the_file_on_the_stick_and_takes_the_password(
        db: Database, registry: RegistryService, county: Database, tmp_path: Path,
        capsys: pytest.CaptureFixture) -> None:
    # GIVEN 临晋镇's database and a folder for the stick
    build_registry(registry)
    path = db.location
    db.dispose()
    stick = tmp_path / "stick"
    stick.mkdir()
    # WHEN `townapp export package --out-dir FOLDER --password …` runs (not in a terminal: nothing is asked)
    assert cli.main(["export", "package", "--db", path, "--out-dir", str(stick), "--password", PASSWORD]) == 0
    (written,) = stick.iterdir()
    out = capsys.readouterr().out
    # THEN the file is named by the township, this quarter and today, encrypted, and the output says where
    assert written.name == package_file_name("临晋镇")
    assert protect.is_encrypted(written) and str(written) in out and "可以安全地拔出U盘" in out
    # AND a too short password is a usage error
    assert cli.main(["export", "package", "--db", path, "--out", str(tmp_path / "x.xlsx"), "--password", "123"]) == 2
    # AND `townapp import --password` reads it; a wrong password exits 1 with the Chinese reason
    county_path = county.location
    county.dispose()
    assert cli.main(["import", "--db", county_path, str(written), "--password", "不对的密码12"]) == 1
    assert "密码不正确" in capsys.readouterr().out
    assert cli.main(["import", "--db", county_path, str(written), "--password", PASSWORD]) == 0
    # AND without either option a script still gets the clear package, with a warning
    assert cli.main(["export", "package", "--db", path, "--out", str(tmp_path / "clear.xlsx")]) == 0
    assert "数据包未加密" in capsys.readouterr().out and zipfile.is_zipfile(tmp_path / "clear.xlsx")

"""ID numbers against the GB/T 2260 history: a code that was right when the number was given is never
questioned, a code nobody knows is a warning, never a crash, and a 15-digit number says how to find the
18-digit one.

The stories: a village sends its roster, and one person was born in 1995 in 江津 under a code python-stdnum's
table lacks — the whole import used to stop with KeyError('county') (exit 3). A clerk saves a person born in a
county whose code was in force then and has since changed — no warning should make them doubt a correct ID.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from importlib.resources import files
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests.exchange.conftest import write_xlsx
from tests.figures import record
from townapp.core import idcard
from townapp.core.idcard import IdNumberError, check_digit, make_id_number, parse_id_number
from townapp.db import Database
from townapp.exchange import spec as s
from townapp.exchange.normalize import CellError, normalize_cell
from townapp.exchange.pipeline import run_import
from townapp.registry import models as m
from townapp.registry.dto import PersonInput, VillageInput
from townapp.registry.service import RegistryService
from townapp.registry.validation import check_person
from townapp.sheets import all_sheet_specs

TODAY = dt.date(2026, 11, 23)
ID_COLUMN = s.ColumnSpec("id_number", "身份证号", kind="id_number", required=True)
# codes the issue found in force but missing from python-stdnum's table, with a birth year of their time
MISSING_FROM_STDNUM = (("500181", 1995, "江津"), ("140503", 1990, "晋城郊区"), ("139001", 1992, "河北省直辖"))


def history_in_force() -> dict[str, list[tuple[int, int]]]:
    """Read independently of townapp: each code of stdnum's loc.dat with its years in force (open ends
    as 1900 and TODAY's year, the years an ID number can encode)."""
    text = files("stdnum").joinpath("cn", "loc.dat").read_text(encoding="utf-8")
    codes: dict[str, list[tuple[int, int]]] = {}
    province = ""
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        if not line.startswith(" "):
            province = line.split()[0]
            continue
        code, _, rest = line.strip().partition(" ")
        name = rest.split('"')[1]
        for part in name.split(","):
            found = re.match(r"\[(\d*)-(\d*)\]", part)
            start = int(found[1]) if found and found[1] else 1900
            end = int(found[2]) if found and found[2] else TODAY.year
            codes.setdefault(province + code, []).append((max(start, 1900), min(end, TODAY.year)))
    return codes


def test_every_code_and_year_of_the_history_is_accepted_without_a_warning() -> None:
    """GIVEN every (region code, year) pair in force in the GB/T 2260 history python-stdnum ships
    WHEN an ID number with that code and a birth date in that year (valid checksum) goes through the
    importer's cell normaliser and the field rules that the importer, the dialogs and the services share
    THEN nothing raises, the number is accepted, and there is no region warning;
    AND the year after a withdrawn code's last year gives a warning, still no exception."""
    history = history_in_force()
    assert len(history) > 6000
    started = time.perf_counter()
    pairs = withdrawn = 0
    for code, spans in history.items():
        for first, last in spans:
            for year in range(first, last + 1):
                first17 = f"{code}{year:04d}0701011"
                number = first17 + check_digit(first17)
                assert normalize_cell(ID_COLUMN, number) == number
                problems, info = check_person(PersonInput(number, "张三"), TODAY)
                assert problems == [] and info is not None and info.region_known, (code, year, problems)
                pairs += 1
        last_year = max(last for _, last in spans)
        if last_year < TODAY.year:
            number = make_id_number(code, dt.date(last_year + 1, 7, 1), 11)
            problems, info = check_person(PersonInput(number, "张三"), TODAY)
            assert info is not None and not info.region_known
            assert [(p.field, p.severity) for p in problems] == [("id_number", "warning")]
            assert code in problems[0].message and str(last_year) in problems[0].message
            withdrawn += 1
    seconds = time.perf_counter() - started
    record("身份证地区码历史：在用 (代码, 年份) 组合", pairs)
    record("身份证地区码历史：全部核对用时 (s)", round(seconds, 2))
    assert pairs > 300_000 and withdrawn > 1000


def test_a_code_given_after_the_birth_year_is_not_questioned() -> None:
    """GIVEN someone born in 1950 in 北京房山, whose number was given in 1990 under 房山区's code 110111
    (in force since 1986) WHEN the number is checked THEN no warning: numbers are given at first
    registration, for everyone born before 1984 at the earliest then."""
    assert parse_id_number(make_id_number("110111", dt.date(1950, 5, 1), 11), TODAY).warnings == []


@settings(max_examples=500, deadline=None)
@given(st.text("0123456789", min_size=17, max_size=17))
def test_any_eighteen_digits_with_a_valid_checksum_never_raise(first17: str) -> None:
    """GIVEN any 17 digits and their check digit (any region, any date, real or not)
    WHEN checked by the shared field rules THEN an impossible date is a field error, an unknown region a
    warning — never an exception."""
    number = first17 + check_digit(first17)
    problems, info = check_person(PersonInput(number, "张三"), TODAY)
    assert all(p.field == "id_number" for p in problems)
    assert info is not None or [p.severity for p in problems] == ["error"]


@pytest.mark.parametrize(("code", "year", "place"), MISSING_FROM_STDNUM, ids=[c for c, _, _ in MISSING_FROM_STDNUM])
def test_a_code_missing_from_stdnums_table_is_a_warning_in_the_dialog_and_the_service(
        registry: RegistryService, code: str, year: int, place: str) -> None:
    """GIVEN a person born in {place} in {year} under {code}, a code in force then that python-stdnum's
    table lacks (its look-up raised KeyError('county'))
    WHEN the dialog checks the fields and the service saves the person
    THEN the dialog shows one warning naming the code, and the person is saved."""
    number = make_id_number(code, dt.date(year, 3, 15), 21)
    village = registry.save_village(VillageInput(code="140821100201", name="东张村"))
    person = PersonInput(number, "刘一", village_id=village)
    problems = registry.check_person(person)
    assert [(p.field, p.severity) for p in problems] == [("id_number", "warning")]
    assert code in problems[0].message
    registry.save_person(person)
    assert registry.find_person_by_id_number(number) is not None


def test_a_roster_with_a_jiangjin_number_of_1995_is_imported(db: Database, tmp_path: Path) -> None:
    """GIVEN a roster of two people, one born in 江津 in 1995 with 500181 (the row that aborted the
    whole import with exit 3)
    WHEN it is imported
    THEN the import is accepted, both people are stored, and the report carries one region warning."""
    jiangjin = make_id_number("500181", dt.date(1995, 6, 1), 31)
    linyi = make_id_number("140821", dt.date(1970, 3, 15), 11)
    RegistryService(db).save_village(VillageInput(code="140821100201", name="东张村"))
    path = write_xlsx(tmp_path / "roster.xlsx", {"人员": [["身份证号", "姓名", "所属村"],
                                                          [jiangjin, "陈江", "东张村"], [linyi, "张山", "东张村"]]})
    report = run_import(db, path, all_sheet_specs())
    assert report.accepted and report.status == "ok", report.summary_text()
    assert any("500181" in w.message for w in report.warnings)
    with db.engine.connect() as conn:
        stored = set(conn.execute(select(m.Person.id_number)).scalars())
    assert {jiangjin, linyi} <= stored


@pytest.mark.parametrize("typed", ["110101900307123", " 110101 900307 123 ", 110101900307123])
def test_a_fifteen_digit_number_says_how_to_get_the_eighteen_digit_one(typed: str | int) -> None:
    """GIVEN a first-generation 15-digit ID, typed in a dialog or sent in a workbook (as text or as a number)
    WHEN it is checked THEN it is refused with one message, the same in both places: where the 18-digit
    number is written, how it is formed, and the likely number — which is shown, never stored."""
    likely = "110101199003071233"
    assert parse_id_number(likely, TODAY).birth_date == dt.date(1990, 3, 7)
    message = idcard.fifteen_digit_message("110101900307123")
    assert "第二代身份证" in message and "户口簿" in message and "19" in message and likely in message
    with pytest.raises(CellError) as cell:
        normalize_cell(ID_COLUMN, typed)
    assert (cell.value.code, cell.value.message) == ("id_length", message)
    if isinstance(typed, str):
        with pytest.raises(IdNumberError) as dialog:
            parse_id_number(typed, TODAY)
        assert (dialog.value.code, dialog.value.message) == ("id_length", message)
        problems, info = check_person(PersonInput(typed, "张三"), TODAY)
        assert info is None and [(p.field, p.message) for p in problems] == [("id_number", message)]


def test_a_fifteen_digit_number_with_an_impossible_date_shows_no_likely_number() -> None:
    message = idcard.fifteen_digit_message("110101901307123")  # month 13
    assert "户口簿" in message and not re.search(r"\d{17}[\dX]", message)


def test_the_history_copy_in_the_data_folder_answers_as_the_parse_and_an_old_copy_is_rebuilt(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN the region history parsed from stdnum's file, and a copy of stdnum's own table that an
    earlier version left in the data folder
    WHEN it is read back from the data folder's JSON copy, and again after the copy was damaged, was
    left in another layout or was made from another stdnum's file
    THEN every answer is the same, the copy is rewritten in the current layout, and the earlier
    version's copy is gone."""
    monkeypatch.setenv("TOWNAPP_DATA_DIR", str(tmp_path))
    earlier = tmp_path / "cache" / "stdnum-2.2-cn-loc.json"
    earlier.parent.mkdir(parents=True)
    earlier.write_text(json.dumps([["11", "province=北京市"]]), encoding="utf-8")
    codes = ("140821", "142724", "110103", "140881", "990000", "110000", "500181")
    years = (1950, 1985, 2005, 2020)

    def answers() -> list[bool]:
        idcard.load_region_table.cache_clear()
        return [idcard.region_known(code, year) for code in codes for year in years]

    parsed = answers()  # no copy yet: parsed from stdnum's file, the copy written
    path = idcard._region_cache_path()
    current = json.loads(path.read_text(encoding="utf-8"))
    assert current["format"] == idcard._REGION_FORMAT and not earlier.exists()
    started = time.perf_counter()
    assert answers() == parsed  # read from the copy
    record("身份证地区码表：从缓存读入 (ms)", round((time.perf_counter() - started) * 1000, 1))
    wrong_years = {**current, "last": dict.fromkeys(current["last"], "2000")}
    for stale in ("{ not json", json.dumps([["11", "province=北京市"]]), json.dumps({"format": 1, "last": {}}),
                  json.dumps({**current, "source": "1:2"}), json.dumps(wrong_years)):
        path.write_text(stale, encoding="utf-8")
        assert answers() == parsed
        assert json.loads(path.read_text(encoding="utf-8")) == current
    assert parsed.count(True) >= 4 and parsed.count(False) >= 4
    idcard.load_region_table.cache_clear()

"""Stories about the demo database: realistic, valid by the registry's own rules, same seed → same bytes."""

from __future__ import annotations

import collections
import datetime as dt
import hashlib
import random
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import DEMO_AS_OF as DEMO_DATE
from townapp.core.dates import age_on
from townapp.core.errors import Cancelled, DomainError
from townapp.core.idcard import parse_id_number
from townapp.core.pinyin import initials
from townapp.db import Database, open_database
from townapp.demo import DemoSummary, build_demo
from townapp.registry.dto import HouseholdInput, MemberInput, PartyInput, PersonInput
from townapp.registry.validation import check_household, check_person

MAIN_TABLES = ("township", "village", "village_group", "household", "person", "household_member",
               "party_branch", "party_member")


def _fresh_copy(template: Path, target: Path) -> Database:
    shutil.copyfile(template, target)
    return open_database(target)


@pytest.fixture(scope="module")
def township(migrated_template: Path, tmp_path_factory: pytest.TempPathFactory,
             ) -> Iterator[tuple[Database, DemoSummary, list[tuple[int, int, str]]]]:
    """One township-scale build shared by the read-only stories of this module (it takes a few seconds)."""
    folder = tmp_path_factory.mktemp("demo")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TOWNAPP_DATA_DIR", str(folder / "data"))
        db = _fresh_copy(migrated_template, folder / "demo.db")
        calls: list[tuple[int, int, str]] = []
        summary = build_demo(db, scale="township", seed=1, progress=lambda d, t, text: calls.append((d, t, text)),
                             as_of=DEMO_DATE)
        yield db, summary, calls
        db.dispose()


def _rows(db: Database, sql: str) -> list[tuple]:
    with db.engine.connect() as conn:
        return [tuple(row) for row in conn.exec_driver_sql(sql)]


def _all_tables(db: Database) -> tuple[str, ...]:
    return tuple(name for (name,) in _rows(db, "SELECT name FROM sqlite_master WHERE type = 'table' "
                                               "AND name NOT LIKE 'sqlite_%' ORDER BY name"))


def _content_hash(db: Database, tables: tuple[str, ...] = MAIN_TABLES) -> str:
    digest = hashlib.sha256()
    for table in tables:
        for row in sorted(repr(row) for row in _rows(db, f"SELECT * FROM {table}")):
            digest.update(row.encode("utf-8"))
    digest.update(repr(_rows(db, "SELECT * FROM app_meta ORDER BY key")).encode("utf-8"))
    return digest.hexdigest()


def _date(text: str | None) -> dt.date | None:
    return None if text is None else dt.date.fromisoformat(text)


def _members_by_household(db: Database) -> dict[int, list[tuple[str, str, dt.date]]]:
    """household id → [(relation, sex, birth date)]."""
    out: dict[int, list[tuple[str, str, dt.date]]] = collections.defaultdict(list)
    for household_id, relation, sex, birth in _rows(
            db, "SELECT hm.household_id, hm.relation, p.sex, p.birth_date FROM household_member hm "
                "JOIN person p ON p.id = hm.person_id ORDER BY hm.household_id, hm.position"):
        out[household_id].append((relation, sex, dt.date.fromisoformat(birth)))
    return out


# ----- size and shape ----------------------------------------------------------

def test_township_scale_has_the_expected_size(township) -> None:
    # GIVEN an empty database
    # WHEN the township-scale demo is built
    db, summary, _calls = township
    # THEN it holds about 20 villages, 8,000 households, 25,000 people and 1,500 party members
    assert summary.townships == 1
    assert summary.villages == 20
    assert summary.households == 8_000
    assert 23_000 <= summary.people <= 27_000
    assert 1_200 <= summary.party_members <= 1_800
    assert summary.counts["household_member"] == summary.people
    for table in MAIN_TABLES[1:]:
        assert _rows(db, f"SELECT count(*) FROM {table}")[0][0] == summary.counts[table], table
    # AND the database is initialised as one township whose villages carry its code
    assert dict(_rows(db, "SELECT key, value FROM app_meta")) == {
        "mode": "township", "root_name": "临晋镇", "root_code": "140821102"}
    codes = [code for (code,) in _rows(db, "SELECT code FROM village")]
    assert all(re.fullmatch(r"140821102\d{3}", c) for c in codes) and len(set(codes)) == len(codes)
    groups = [n for (n,) in _rows(db, "SELECT count(*) FROM village_group GROUP BY village_id")]
    assert len(groups) == 20 and all(4 <= n <= 10 for n in groups)
    assert "用时" in summary.describe() and "8000 户" in summary.describe()


def test_households_have_one_head_numbers_and_addresses(township) -> None:
    db, _summary, _calls = township
    # WHEN we look at every household
    households = _members_by_household(db)
    # THEN each has exactly one 户主, between 1 and 7 members, about 3.1 on average
    assert len(households) == 8_000
    assert all([r for r, _s, _b in members].count("户主") == 1 for members in households.values())
    sizes = [len(members) for members in households.values()]
    assert min(sizes) == 1 and max(sizes) <= 7
    assert 2.9 <= sum(sizes) / len(sizes) <= 3.3
    # AND 户编号 are four digits, unique within their village; addresses read like “东张村二组 17号”
    rows = _rows(db, "SELECT h.village_id, h.number, h.address, v.name, g.name FROM household h "
                     "JOIN village v ON v.id = h.village_id JOIN village_group g ON g.id = h.group_id")
    assert len({(v, n) for v, n, *_ in rows}) == len(rows)
    for _village, number, address, village_name, group_name in rows:
        assert re.fullmatch(r"\d{4}", number)
        assert re.fullmatch(re.escape(village_name + group_name) + r" \d+号", address)


def test_relations_make_sense(township) -> None:
    db, _summary, _calls = township
    expected_sex = {"子": "男", "女": "女", "儿媳": "女", "孙子": "男", "孙女": "女", "父亲": "男", "母亲": "女"}
    for members in _members_by_household(db).values():
        head = next(m for m in members if m[0] == "户主")
        spouses = [m for m in members if m[0] == "配偶"]
        # THEN a spouse is of the other sex and of similar age
        for _r, sex, birth in spouses:
            assert sex != head[1]
            assert abs((birth - head[2]).days) <= 8 * 366
        # AND children are 20–40 years younger than the head and the spouse
        for relation, sex, birth in members:
            if relation in expected_sex:
                assert sex == expected_sex[relation]
            if relation in ("子", "女"):
                for parent in [head, *spouses]:
                    assert 20 <= age_on(parent[2], birth) <= 40
            if relation in ("父亲", "母亲"):
                assert 20 <= age_on(birth, head[2]) <= 40
        # AND grandchildren are younger again: 20–40 years after the 儿媳 and after one of the sons
        for relation, _sex, birth in members:
            if relation in ("孙子", "孙女"):
                assert age_on(head[2], birth) >= 40
                assert all(20 <= age_on(m[2], birth) <= 40 for m in members if m[0] == "儿媳")
                assert any(20 <= age_on(m[2], birth) <= 40 for m in members if m[0] == "子")


def test_id_numbers_are_valid_unique_and_match_sex_and_birth(township) -> None:
    db, _summary, _calls = township
    rows = _rows(db, "SELECT id_number, id_number_rev, name, name_initials, sex, birth_date FROM person")
    numbers = [r[0] for r in rows]
    assert len(set(numbers)) == len(numbers)
    regions = collections.Counter()
    for number, reverse, name, name_initials, sex, birth in rows:
        info = parse_id_number(number)
        # THEN every ID passes the checksum, and sex and birth date are the ID's own
        assert info.sex == sex and info.birth_date.isoformat() == birth
        assert int(number[16]) % 2 == (1 if sex == "男" else 0)
        assert info.warnings == []  # region codes fit the birth year
        # AND the search columns are filled as the registry service fills them
        assert reverse == number[::-1]
        assert name_initials == initials(name)
        assert birth <= DEMO_DATE.isoformat()
        # AND 临猗's code is the one of the birth era: 142724 before 2000, 140821 since
        if number[:6] == "142724":
            assert info.birth_date.year < 2000
        elif number[:6] == "140821":
            assert info.birth_date.year >= 2000
        regions[number[:6] if number[:6] in ("142724", "140821") else "other"] += 1
    # AND most people carry 临猗's code of their birth era, a few come from elsewhere in Shanxi
    assert 0.02 <= regions["other"] / len(rows) <= 0.08


def test_party_members_are_realistic(township) -> None:
    db, _summary, _calls = township
    rows = _rows(db, "SELECT p.birth_date, p.sex, m.member_type, m.joined_on, m.confirmed_on, m.mobility, "
                     "m.mobility_since, m.destination, m.points_category, m.party_post, m.status, m.branch_id, "
                     "m.group_id FROM party_member m JOIN person p ON p.id = m.person_id")
    count = len(rows)
    women = over_60 = probationary = mobile = lost = 0
    categories = collections.Counter()
    for birth, sex, kind, joined, confirmed, mobility, since, destination, category, post, status, branch, group in rows:
        birth, joined, confirmed, since = _date(birth), _date(joined), _date(confirmed), _date(since)
        # THEN everybody joined at 18 or later, and before the demo date
        assert joined is not None and age_on(birth, joined) >= 18 and joined <= DEMO_DATE
        if kind == "正式党员":
            assert confirmed is not None and age_on(joined, confirmed) == 1 and confirmed <= DEMO_DATE
        else:
            assert kind == "预备党员" and confirmed is None and (DEMO_DATE - joined).days <= 366
            probationary += 1
        if mobility in ("流动", "失联"):
            assert since is not None and joined <= since <= DEMO_DATE and category == "流动"
            mobile += mobility == "流动"
            lost += mobility == "失联"
            assert (destination is not None) == (mobility == "流动")
        else:
            assert mobility == "在村" and since is None and destination is None
        if category == "有职":
            assert post
        if category == "免考":
            assert age_on(birth, DEMO_DATE) >= 80
        assert status == "正常" and branch is not None and group is not None
        categories[category] += 1
        women += sex == "女"
        over_60 += age_on(birth, DEMO_DATE) >= 60
    # AND the mix looks like a rural township's
    assert 0.2 <= women / count <= 0.4
    assert over_60 / count >= 0.35
    assert 0.01 <= probationary / count <= 0.05
    assert 0.05 <= mobile / count <= 0.11
    assert 0.002 <= lost / count <= 0.025
    assert set(categories) == {"有职", "无职", "流动", "免考"}


def test_branch_tree_holds_every_member(township) -> None:
    db, _summary, _calls = township
    branches = {b[0]: b for b in _rows(db, "SELECT id, name, kind, parent_id, village_id FROM party_branch")}
    # THEN there is one 党委, and each village has one top organisation under it
    committees = [b for b in branches.values() if b[2] == "党委"]
    assert len(committees) == 1 and committees[0][3] is None
    tops = [b for b in branches.values() if b[3] == committees[0][0]]
    assert sorted(b[4] for b in tops) == sorted(v for (v,) in _rows(db, "SELECT id FROM village"))
    for top in tops:
        children = [b for b in branches.values() if b[3] == top[0]]
        if top[2] == "党总支":
            assert 2 <= len(children) <= 3 and all(c[2] == "党支部" for c in children)
        else:
            assert top[2] == "党支部" and children and all(c[2] == "党小组" for c in children)
    # AND each member sits in a 党小组 of their own 党支部, in their own village
    for branch_id, group_id, village_id in _rows(
            db, "SELECT m.branch_id, m.group_id, p.village_id FROM party_member m JOIN person p ON p.id = m.person_id"):
        assert branches[branch_id][2] == "党支部" and branches[group_id][2] == "党小组"
        assert branches[group_id][3] == branch_id
        assert branches[branch_id][4] == village_id


def test_sampled_rows_pass_the_registry_validation(township) -> None:
    db, _summary, _calls = township
    people = {r[0]: r for r in _rows(
        db, "SELECT p.id, p.id_number, p.name, p.sex, p.birth_date, p.ethnicity, p.education, p.phone, p.village_id, "
            "m.member_type, m.joined_on, m.confirmed_on, m.branch_id, m.group_id, m.party_post, m.status, "
            "m.status_date, m.mobility, m.mobility_since, m.destination, m.points_category, m.duty_post "
            "FROM person p LEFT JOIN party_member m ON m.person_id = p.id")}
    links = collections.defaultdict(list)
    for household_id, person_id, relation in _rows(
            db, "SELECT household_id, person_id, relation FROM household_member ORDER BY household_id, position"):
        links[household_id].append((person_id, relation))
    households = _rows(db, "SELECT id, village_id, number, group_id, address, phone FROM household")
    # WHEN a sample of households goes through the same checks a dialog or an import would run
    for household_id, village_id, number, group_id, address, phone in random.Random(7).sample(households, 400):
        members = []
        for person_id, relation in links[household_id]:
            p = people[person_id]
            party = None if p[9] is None else PartyInput(
                member_type=p[9], joined_on=_date(p[10]), confirmed_on=_date(p[11]), branch_id=p[12],
                group_id=p[13], party_post=p[14], status=p[15], status_date=_date(p[16]), mobility=p[17],
                mobility_since=_date(p[18]), destination=p[19], points_category=p[20], duty_post=p[21])
            person = PersonInput(id_number=p[1], name=p[2], sex=p[3], birth_date=_date(p[4]), ethnicity=p[5],
                                 education=p[6], phone=p[7], village_id=p[8], party=party, id=p[0])
            # THEN no person has a problem, not even a warning
            problems, info = check_person(person)
            assert problems == [] and info is not None, (p, problems)
            members.append(MemberInput(person, relation))
        data = HouseholdInput(village_id=village_id, number=number, members=members, group_id=group_id,
                              address=address, phone=phone, id=household_id)
        # AND no household has one
        assert check_household(data) == []


def test_progress_is_reported_in_chinese(township) -> None:
    _db, _summary, calls = township
    # THEN progress was reported per village, never going backwards, ending complete
    assert len(calls) >= 20
    fractions = [done / total for done, total, _text in calls]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any("正在生成 临晋镇" in text and "的住户" in text for _d, _t, text in calls)
    assert all(re.search(r"[\u4e00-\u9fff]", text) for _d, _t, text in calls)


# ----- determinism -------------------------------------------------------------

def test_same_seed_gives_identical_content(township, migrated_template: Path, tmp_path: Path) -> None:
    # GIVEN the township-scale build with seed 1
    db, _summary, _calls = township
    # WHEN it is built again into another empty database
    again = _fresh_copy(migrated_template, tmp_path / "again.db")
    try:
        build_demo(again, scale="township", seed=1, as_of=DEMO_DATE)
        # THEN every table holds the very same rows (UUIDs and timestamps included), those the services wrote
        # while reviewing, publicising and rating (stamped with the demo's moment, not the clock) too
        assert _content_hash(again) == _content_hash(db)
        assert _content_hash(again, _all_tables(db)) == _content_hash(db, _all_tables(db))
    finally:
        again.dispose()


def test_another_seed_gives_other_people(empty_db: Database, migrated_template: Path, tmp_path: Path) -> None:
    other = _fresh_copy(migrated_template, tmp_path / "other.db")
    try:
        build_demo(empty_db, scale="small", seed=1)
        build_demo(other, scale="small", seed=2)
        assert _rows(empty_db, "SELECT name FROM person ORDER BY id LIMIT 50") != \
            _rows(other, "SELECT name FROM person ORDER BY id LIMIT 50")
    finally:
        other.dispose()


# ----- refusing and cancelling -------------------------------------------------

def test_an_initialised_database_is_refused(db: Database) -> None:
    # GIVEN a database already initialised as a township
    # WHEN the demo is asked to fill it THEN it refuses, in Chinese, and writes nothing
    with pytest.raises(DomainError, match="已经初始化"):
        build_demo(db, scale="small")
    assert _rows(db, "SELECT count(*) FROM village") == [(0,)]


def test_unknown_scale_is_refused(empty_db: Database) -> None:
    with pytest.raises(DomainError, match="规模"):
        build_demo(empty_db, scale="province")


def test_cancel_leaves_an_empty_database(empty_db: Database) -> None:
    # GIVEN a county-scale build that the user cancels while the first township's reviews and 定级 are being
    # taken through the services, after its bulk transaction has been committed
    texts: list[str] = []

    def cancel() -> bool:
        return any("正在办理" in t for t in texts)

    # WHEN it runs THEN it raises Cancelled
    with pytest.raises(Cancelled):
        build_demo(empty_db, scale="county", seed=3, progress=lambda d, t, text: texts.append(text), cancel=cancel)
    assert any("猗氏镇" in t for t in texts)
    # AND no row is left behind: not the first township's, not what the services wrote, not even the root
    for table in (*MAIN_TABLES, "app_meta"):
        assert _rows(empty_db, f"SELECT count(*) FROM {table}") == [(0,)], table
    # AND the emptied database can still take a demo
    summary = build_demo(empty_db, scale="small", seed=3)
    assert summary.households == 400

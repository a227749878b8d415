"""The registry service: villages, households, people and party members, search and roles.

All against a real township database (临晋镇 140821100) from the ``db`` fixture.
"""

from __future__ import annotations

import datetime as dt

import pytest

from townapp.core.actor import ROLE_READONLY, ROLE_TOWNSHIP, ROLE_VILLAGE, Actor
from townapp.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from townapp.core.idcard import make_id_number
from townapp.db import Database
from townapp.registry.dto import (
    HouseholdInput,
    MemberInput,
    PartyInput,
    PersonInput,
    SearchFilter,
    VillageInput,
)
from townapp.registry.service import RegistryService

WEST = "140821100201"
EAST = "140821100202"


def pid(year: int, seq: int, month: int = 3, day: int = 4, region: str = "140821") -> str:
    """A valid ID number: odd ``seq`` is 男, even 女.

    Initials order the names: 李四 ls, 孙七 sq, 王五 ww, 赵六 zl, 张三 zs, 张小红 zxh.
    """
    return make_id_number(region, dt.date(year, month, day), seq)


ZHANG_SAN = pid(1970, 11)  # 男
LI_SI = pid(1972, 12)  # 女
WANG_WU = pid(1995, 13)
ZHAO_LIU = pid(1960, 15)
TAIL_1234 = "140821198001071234"  # sequence 123, check digit 4
TAIL_123X = "14082119800108123X"


def problem_fields(exc: ValidationFailed) -> list[str]:
    return [p.field for p in exc.problems if p.severity == "error"]


@pytest.fixture
def west(registry: RegistryService) -> int:
    return registry.save_village(VillageInput(code=WEST, name="西关村", groups=["一组", "二组"]))


@pytest.fixture
def east(registry: RegistryService) -> int:
    return registry.save_village(VillageInput(code=EAST, name="东关村"))


def household(village_id: int, number: str, *members: tuple[str, str, str], **kw: object) -> HouseholdInput:
    return HouseholdInput(village_id=village_id, number=number,
                          members=[MemberInput(PersonInput(idn, name), rel) for idn, name, rel in members], **kw)


# ----- villages -------------------------------------------------------------


class TestVillages:
    def test_create_and_list(self, registry: RegistryService, west: int) -> None:
        # GIVEN a village entered with full-width code digits and padded name
        vid = registry.save_village(VillageInput(code="１４０８２１１００２０３", name=" 南 关 村 ", kind="行政村"))
        # THEN it is stored cleanly, under the township, listed by code
        rows = {r.id: r for r in registry.villages()}
        assert rows[vid].code == "140821100203"
        assert rows[vid].name == "南关村"
        assert rows[vid].kind == "村"
        assert rows[west].groups == ("一组", "二组")
        assert [r.code for r in registry.villages()] == [WEST, "140821100203"]
        assert rows[vid].township_id == registry.townships()[0].id

    def test_duplicate_code_refused_with_the_owner_named(self, registry: RegistryService, west: int) -> None:
        # GIVEN 西关村 holds code WEST WHEN another village is given the same code
        with pytest.raises(ValidationFailed) as caught:
            registry.save_village(VillageInput(code=WEST, name="新村"))
        # THEN it is refused, naming the village that has it
        assert problem_fields(caught.value) == ["code"]
        assert "西关村" in caught.value.message and WEST in caught.value.message
        # AND re-saving 西关村 itself with its own code is fine
        registry.save_village(VillageInput(code=WEST, name="西关村", groups=["一组", "二组"], id=west))

    @pytest.mark.parametrize("code", ["14082110020", "1408211002011", "14082110020A", ""])
    def test_bad_codes_refused(self, registry: RegistryService, code: str) -> None:
        with pytest.raises(ValidationFailed) as caught:
            registry.save_village(VillageInput(code=code, name="新村"))
        assert "12位" in caught.value.message

    def test_groups_added_and_removed(self, registry: RegistryService, west: int) -> None:
        # GIVEN a household in 二组
        groups = dict((name, gid) for gid, name in registry.village_groups(west))
        hid = registry.save_household(household(west, "001", (ZHANG_SAN, "张三", "户主"), group_id=groups["二组"]))
        # WHEN 二组 is removed and 三组 added
        registry.save_village(VillageInput(code=WEST, name="西关村", groups=["一组", "三组"], id=west))
        # THEN the groups are as listed; 一组 kept its id; the household simply has no group now
        after = dict((name, gid) for gid, name in registry.village_groups(west))
        assert set(after) == {"一组", "三组"}
        assert after["一组"] == groups["一组"]
        assert registry.get_household(hid).group_id is None

    def test_duplicate_group_names_refused(self, registry: RegistryService) -> None:
        with pytest.raises(ValidationFailed) as caught:
            registry.save_village(VillageInput(code=WEST, name="西关村", groups=["一组", "一 组"]))
        assert problem_fields(caught.value) == ["groups"]

    def test_delete_refused_while_households_exist(self, registry: RegistryService, west: int, east: int) -> None:
        # GIVEN 西关村 has a household
        registry.save_household(household(west, "001", (ZHANG_SAN, "张三", "户主")))
        # WHEN it is deleted THEN it is refused with a message naming it, and it is still there
        with pytest.raises(DomainError) as caught:
            registry.delete_village(west)
        assert "西关村" in caught.value.message and "不能删除" in caught.value.message
        assert west in {v.id for v in registry.villages()}
        # AND an empty village can be deleted (with its groups)
        registry.delete_village(east)
        assert east not in {v.id for v in registry.villages()}
        with pytest.raises(NotFound):
            registry.delete_village(east)

    def test_delete_refused_while_people_are_registered_there(self, registry: RegistryService, west: int) -> None:
        registry.save_person(PersonInput(ZHANG_SAN, "张三", village_id=west))
        with pytest.raises(DomainError):
            registry.delete_village(west)

    def test_counts_per_village(self, registry: RegistryService, west: int, east: int) -> None:
        registry.save_household(household(west, "001", (ZHANG_SAN, "张三", "户主"), (LI_SI, "李四", "配偶")))
        registry.save_person(PersonInput(WANG_WU, "王五", village_id=east, party=PartyInput()))
        rows = {r.id: r for r in registry.villages()}
        assert (rows[west].households, rows[west].people, rows[west].party_members) == (1, 2, 0)
        assert (rows[east].households, rows[east].people, rows[east].party_members) == (0, 1, 1)
        counts = registry.counts()
        assert (counts.villages, counts.households, counts.people, counts.party_members) == (2, 1, 3, 1)


# ----- households -------------------------------------------------------------


class TestHouseholds:
    def test_create_with_two_members(self, registry: RegistryService, west: int) -> None:
        # GIVEN a clerk enters household 001 with 户主 张三 and his wife 李四 (relation typed as 妻子)
        hid = registry.save_household(household(west, " 001 ", (ZHANG_SAN, "张三", "户主"), (LI_SI, "李四", "妻子"),
                                                address="西关村一组5号", phone="138 0013 8000"))
        # THEN both people are registered in the village, linked in order, relations standardised
        dto = registry.get_household(hid)
        assert dto.number == "001"
        assert dto.phone == "13800138000"
        assert [(p.name, rel) for p, rel in dto.members] == [("张三", "户主"), ("李四", "配偶")]
        assert all(p.village_id == west and p.household_id == hid for p, _ in dto.members)
        assert dto.members[0][0].sex == "男" and dto.members[1][0].sex == "女"
        row = registry.household_rows([hid])[hid]
        assert (row.village, row.number, row.head_name, row.member_count) == ("西关村", "001", "张三", 2)

    @pytest.mark.parametrize("relations", [("配偶", "子"), ("户主", "本人")])
    def test_exactly_one_head(self, registry: RegistryService, west: int, relations: tuple[str, str]) -> None:
        # GIVEN a household with no 户主, or two (本人 means 户主)
        data = household(west, "001", (ZHANG_SAN, "张三", relations[0]), (LI_SI, "李四", relations[1]))
        # WHEN saved THEN refused on the members, and nothing is registered
        with pytest.raises(ValidationFailed) as caught:
            registry.save_household(data)
        assert "members" in problem_fields(caught.value)
        assert "户主" in caught.value.message
        assert registry.counts().people == 0

    def test_unknown_relation_refused(self, registry: RegistryService, west: int) -> None:
        with pytest.raises(ValidationFailed) as caught:
            registry.save_household(household(west, "001", (ZHANG_SAN, "张三", "户主"), (LI_SI, "李四", "邻居")))
        assert "members[1].relation" in problem_fields(caught.value)

    def test_empty_number_refused(self, registry: RegistryService, west: int) -> None:
        with pytest.raises(ValidationFailed) as caught:
            registry.save_household(household(west, "  ", (ZHANG_SAN, "张三", "户主")))
        assert problem_fields(caught.value) == ["number"]

    def test_duplicate_number_in_the_village_refused(self, registry: RegistryService, west: int, east: int) -> None:
        registry.save_household(household(west, "001", (ZHANG_SAN, "张三", "户主")))
        with pytest.raises(ValidationFailed) as caught:
            registry.save_household(household(west, "001", (LI_SI, "李四", "户主")))
        assert "001" in caught.value.message
        # the same number in another village is another household
        registry.save_household(household(east, "001", (LI_SI, "李四", "户主")))

    @pytest.mark.parametrize(
        "second_spelling",
        [ZHANG_SAN, " " + ZHANG_SAN[:6] + " " + ZHANG_SAN[6:] + " ",
         "".join(chr(ord(c) + 0xFEE0) for c in ZHANG_SAN)],
        ids=["same", "spaces", "fullwidth"],
    )
    def test_same_person_twice_refused(self, registry: RegistryService, west: int, second_spelling: str) -> None:
        # GIVEN the same ID entered for two members, perhaps spelled differently (spaces, full-width digits)
        data = household(west, "001", (ZHANG_SAN, "张三", "户主"), (second_spelling, "张三", "子"))
        # WHEN saved THEN it is refused on the second member, and nothing is registered
        with pytest.raises(ValidationFailed) as caught:
            registry.save_household(data)
        assert "members[1].id_number" in problem_fields(caught.value)
        assert "两次" in caught.value.message
        assert registry.counts().households == 0 and registry.counts().people == 0

    def test_same_person_twice_with_lower_case_x(self, registry: RegistryService, west: int) -> None:
        data = household(west, "001", (TAIL_123X, "张三", "户主"), (TAIL_123X.lower(), "张三", "子"))
        with pytest.raises(ValidationFailed) as caught:
            registry.save_household(data)
        assert "members[1].id_number" in problem_fields(caught.value)

    def test_person_already_in_another_household_refused(self, registry: RegistryService, west: int,
                                                         east: int) -> None:
        # GIVEN 李四 lives in 西关村 household 001
        registry.save_household(household(west, "001", (ZHANG_SAN, "张三", "户主"), (LI_SI, "李四", "配偶")))
        # WHEN a clerk of 东关村 enters her again as a member of a new household
        with pytest.raises(ValidationFailed) as caught:
            registry.save_household(household(east, "009", (WANG_WU, "王五", "户主"), (LI_SI, "李四", "配偶")))
        # THEN it is refused with where she is registered, and nothing of the new household exists
        assert problem_fields(caught.value) == ["members[1].id_number"]
        assert "西关村" in caught.value.message and "001" in caught.value.message
        assert registry.counts().households == 1 and registry.find_person_by_id_number(WANG_WU) is None

    def test_reuses_an_already_registered_person_by_id_number(self, registry: RegistryService, west: int) -> None:
        # GIVEN 赵六 is registered (no household yet) as a party member, with his ethnicity and phone
        zhao = registry.save_person(PersonInput(ZHAO_LIU, "赵六", village_id=west, ethnicity="回族",
                                                phone="13800138000",
                                                party=PartyInput(joined_on=dt.date(1990, 7, 1),
                                                                 confirmed_on=dt.date(1991, 7, 1))))
        # WHEN a household is entered with him as 户主, typed only by ID number (lower-case, spaced) and name
        hid = registry.save_household(household(west, "002", (" " + ZHAO_LIU.lower() + " ", "赵六", "户主"),
                                                (WANG_WU, "王五", "子")))
        # THEN the same person is linked — not a second 赵六 — and what was registered about him is kept
        dto = registry.get_household(hid)
        head = dto.members[0][0]
        assert head.id == zhao
        assert registry.counts().people == 2
        assert head.party is not None and head.party.joined_on == dt.date(1990, 7, 1)
        assert head.ethnicity == "回族" and head.phone == "13800138000"

    def test_update_members(self, registry: RegistryService, west: int) -> None:
        # GIVEN household 001 of 张三 (户主) and 李四 (配偶)
        hid = registry.save_household(household(west, "001", (ZHANG_SAN, "张三", "户主"), (LI_SI, "李四", "配偶")))
        data = registry.get_household(hid).as_input()
        # WHEN 李四 moves out, 王五 is born into it, and 张三's phone is added
        data.members = [data.members[0], MemberInput(PersonInput(WANG_WU, "王五"), "子")]
        data.members[0].person.phone = "13900139000"
        registry.save_household(data)
        # THEN the household lists 张三 and 王五; 李四 is still registered, in no household
        dto = registry.get_household(hid)
        assert [(p.name, rel) for p, rel in dto.members] == [("张三", "户主"), ("王五", "子")]
        assert dto.members[0][0].phone == "13900139000"
        li = registry.find_person_by_id_number(LI_SI)
        assert li is not None and li.household_id is None
        # AND she can now join another household
        registry.save_household(household(west, "003", (LI_SI, "李四", "户主")))

    def test_change_of_head(self, registry: RegistryService, west: int) -> None:
        hid = registry.save_household(household(west, "001", (ZHANG_SAN, "张三", "户主"), (LI_SI, "李四", "配偶")))
        data = registry.get_household(hid).as_input()
        data.members[0].relation, data.members[1].relation = "配偶", "户主"
        data.members.reverse()
        registry.save_household(data)
        assert registry.household_rows([hid])[hid].head_name == "李四"

    def test_delete_keeps_people(self, registry: RegistryService, west: int) -> None:
        # GIVEN a household of two, one a party member
        hid = registry.save_household(household(west, "001", (ZHANG_SAN, "张三", "户主"), (LI_SI, "李四", "配偶")))
        zhang = registry.find_person_by_id_number(ZHANG_SAN)
        assert zhang is not None
        registry.save_person(PersonInput(**{**zhang.as_input().__dict__, "party": PartyInput()}))
        # WHEN the household is deleted
        registry.delete_household(hid)
        # THEN it is gone, but both people (and the party membership) stay registered
        with pytest.raises(NotFound):
            registry.get_household(hid)
        counts = registry.counts()
        assert (counts.households, counts.people, counts.party_members) == (0, 2, 1)
        assert registry.find_person_by_id_number(ZHANG_SAN).household_id is None  # type: ignore[union-attr]

    def test_delete_with_people(self, registry: RegistryService, west: int) -> None:
        hid = registry.save_household(household(west, "001", (ZHANG_SAN, "张三", "户主"), (LI_SI, "李四", "配偶")))
        registry.delete_household(hid, with_people=True)
        assert registry.counts().people == 0

    def test_head_cannot_be_deleted_while_others_live_in_the_household(self, registry: RegistryService,
                                                                       west: int) -> None:
        hid = registry.save_household(household(west, "001", (ZHANG_SAN, "张三", "户主"), (LI_SI, "李四", "配偶")))
        head = registry.get_household(hid).members[0][0]
        with pytest.raises(DomainError) as caught:
            registry.delete_person(head.id)
        assert "户主" in caught.value.message
        # the spouse can be deleted; the household keeps its head
        registry.delete_person(registry.get_household(hid).members[1][0].id)
        assert [p.name for p, _ in registry.get_household(hid).members] == ["张三"]

    def test_check_household_reports_member_problems_inline(self, registry: RegistryService, west: int) -> None:
        bad = ZHANG_SAN[:-1] + ("0" if ZHANG_SAN[-1] != "0" else "1")
        problems = registry.check_household(household(west, "001", (bad, "张三", "户主")))
        assert [p.field for p in problems if p.severity == "error"] == ["members[0].id_number"]


# ----- people -------------------------------------------------------------------


class TestPeople:
    def test_sex_and_birth_date_derived(self, registry: RegistryService, west: int) -> None:
        person = registry.get_person(registry.save_person(PersonInput(LI_SI, "李四", village_id=west)))
        assert (person.sex, person.birth_date) == ("女", dt.date(1972, 3, 4))

    def test_sex_synonym_agreeing_with_the_id_is_fine(self, registry: RegistryService, west: int) -> None:
        registry.save_person(PersonInput(ZHANG_SAN, "张三", sex="1", birth_date=dt.date(1970, 3, 4), village_id=west))

    def test_sex_and_birth_date_cross_checked(self, registry: RegistryService, west: int) -> None:
        # GIVEN a form where sex and birth date contradict the ID number
        data = PersonInput(ZHANG_SAN, "张三", sex="女", birth_date=dt.date(1970, 4, 3), village_id=west)
        # WHEN saved THEN both fields are errors, and the messages say what the ID says
        with pytest.raises(ValidationFailed) as caught:
            registry.save_person(data)
        assert sorted(problem_fields(caught.value)) == ["birth_date", "sex"]
        assert "男" in caught.value.message and "1970-03-04" in caught.value.message
        assert registry.counts().people == 0

    def test_unrecognised_sex_refused(self, registry: RegistryService) -> None:
        with pytest.raises(ValidationFailed) as caught:
            registry.save_person(PersonInput(ZHANG_SAN, "张三", sex="未知"))
        assert problem_fields(caught.value) == ["sex"]

    def test_invalid_id_and_empty_name_refused(self, registry: RegistryService) -> None:
        with pytest.raises(ValidationFailed) as caught:
            registry.save_person(PersonInput(ZHANG_SAN[:17] + ("0" if ZHANG_SAN[17] != "0" else "1"), " "))
        assert sorted(problem_fields(caught.value)) == ["id_number", "name"]

    def test_old_region_code_is_only_a_warning(self, registry: RegistryService) -> None:
        # 142729 (临猗 before 2000) for a 2005 birth
        number = pid(2005, 21, region="142729")
        problems = registry.check_person(PersonInput(number, "孙七"))
        assert [p.severity for p in problems] == ["warning"]
        registry.save_person(PersonInput(number, "孙七"))
        assert registry.find_person_by_id_number(number) is not None

    def test_duplicate_id_refused_naming_the_existing_person(self, registry: RegistryService, west: int) -> None:
        # GIVEN 张三 of 西关村 is registered
        registry.save_person(PersonInput(ZHANG_SAN, "张三", village_id=west))
        # WHEN someone enters the same ID (full width) under another name
        fullwidth = "".join(chr(ord(c) + 0xFEE0) for c in ZHANG_SAN)
        with pytest.raises(ValidationFailed) as caught:
            registry.save_person(PersonInput(fullwidth, "张叁"))
        # THEN it is refused, naming 张三 and his village
        assert problem_fields(caught.value) == ["id_number"]
        assert "张三" in caught.value.message and "西关村" in caught.value.message
        assert registry.counts().people == 1
        # AND the inline check says the same
        assert any("张三" in p.message for p in registry.check_person(PersonInput(ZHANG_SAN, "张叁")))

    def test_edit_keeps_the_id_number_unique_to_oneself(self, registry: RegistryService) -> None:
        person_id = registry.save_person(PersonInput(ZHANG_SAN, "张三"))
        data = registry.get_person(person_id).as_input()
        data.name = "张 三"
        assert registry.save_person(data) == person_id
        assert registry.get_person(person_id).name == "张三"

    def test_party_member_fields_saved_and_removed(self, registry: RegistryService, west: int) -> None:
        # GIVEN a branch and a person entered as a mobile party member
        branch = registry.save_branch("西关村党支部", "支部", village_id=west)
        party = PartyInput(member_type="正式", joined_on=dt.date(1995, 7, 1), confirmed_on=dt.date(1996, 7, 1),
                           branch_id=branch, party_post=" 支部委员 ", mobility="流动党员",
                           mobility_since=dt.date(2020, 3, 1), destination="太原市", points_category="流动党员",
                           duty_post="政策宣传岗")
        person_id = registry.save_person(PersonInput(ZHANG_SAN, "张三", village_id=west, party=party))
        # THEN every party field is stored in its standard spelling
        saved = registry.get_person(person_id).party
        assert saved == PartyInput(member_type="正式党员", joined_on=dt.date(1995, 7, 1),
                                   confirmed_on=dt.date(1996, 7, 1), branch_id=branch, party_post="支部委员",
                                   mobility="流动", mobility_since=dt.date(2020, 3, 1), destination="太原市",
                                   points_category="流动", duty_post="政策宣传岗")
        assert registry.counts().party_members == 1
        # WHEN he returns to the village THEN the mobility details are cleared
        data = registry.get_person(person_id).as_input()
        assert data.party is not None
        data.party.mobility = "在村"
        registry.save_person(data)
        back = registry.get_person(person_id).party
        assert back is not None and back.mobility_since is None and back.destination is None
        # WHEN the party membership is removed THEN he is still registered, no longer a member
        data = registry.get_person(person_id).as_input()
        data.party = None
        registry.save_person(data)
        assert registry.get_person(person_id).party is None
        assert (registry.counts().people, registry.counts().party_members) == (1, 0)

    def test_probationary_member_with_confirmation_date_refused(self, registry: RegistryService) -> None:
        party = PartyInput(member_type="预备党员", joined_on=dt.date(2025, 7, 1), confirmed_on=dt.date(2026, 7, 1))
        with pytest.raises(ValidationFailed) as caught:
            registry.save_person(PersonInput(WANG_WU, "王五", party=party))
        assert problem_fields(caught.value) == ["party.confirmed_on"]
        assert registry.counts().people == 0

    @pytest.mark.parametrize(
        ("party", "field"),
        [
            (PartyInput(joined_on=dt.date(2010, 7, 1)), "party.joined_on"),  # born 1995: only 15
            (PartyInput(joined_on=dt.date(2020, 7, 1), confirmed_on=dt.date(2019, 7, 1)), "party.confirmed_on"),
            (PartyInput(mobility="流动"), "party.mobility_since"),
            (PartyInput(member_type="群众"), "party.member_type"),
            (PartyInput(points_category="优秀"), "party.points_category"),
        ],
    )
    def test_party_rules(self, registry: RegistryService, party: PartyInput, field: str) -> None:
        with pytest.raises(ValidationFailed) as caught:
            registry.save_person(PersonInput(WANG_WU, "王五", party=party))
        assert problem_fields(caught.value) == [field]

    def test_bad_phone_refused(self, registry: RegistryService) -> None:
        with pytest.raises(ValidationFailed) as caught:
            registry.save_person(PersonInput(WANG_WU, "王五", phone="12345"))
        assert problem_fields(caught.value) == ["phone"]

    def test_missing_person(self, registry: RegistryService) -> None:
        with pytest.raises(NotFound):
            registry.get_person(999)
        assert registry.find_person_by_id_number(ZHANG_SAN) is None


# ----- search --------------------------------------------------------------------


@pytest.fixture
def people(registry: RegistryService, west: int, east: int) -> dict[str, int]:
    """Six people in two villages; 张三 and 赵六 are party members; one ID ends 1234, one 123X."""
    spec = [
        (ZHANG_SAN, "张三", west, "13800138000", PartyInput()),
        (LI_SI, "李四", west, None, None),
        (TAIL_1234, "王五", west, None, None),
        (TAIL_123X, "张小红", east, None, None),
        (ZHAO_LIU, "赵六", east, None, PartyInput()),
        (pid(1999, 17), "孙七", east, None, None),
    ]
    return {name: registry.save_person(PersonInput(idn, name, village_id=v, phone=phone, party=party))
            for idn, name, v, phone, party in spec}


def names(registry: RegistryService, ids: list[int]) -> list[str]:
    rows = registry.person_rows(ids)
    return [rows[i].name for i in ids]


class TestSearch:
    def test_pinyin_initials(self, registry: RegistryService, people: dict[str, int]) -> None:
        # GIVEN a clerk types "zs" (or ZS) WHEN searching THEN 张三 is found, and only names starting so
        assert names(registry, registry.person_ids(SearchFilter(text="zs"))) == ["张三"]
        assert names(registry, registry.person_ids(SearchFilter(text="ＺＳ"))) == ["张三"]
        # a prefix of initials finds all that start so
        assert set(names(registry, registry.person_ids(SearchFilter(text="z")))) == {"张三", "张小红", "赵六"}

    def test_id_tail(self, registry: RegistryService, people: dict[str, int]) -> None:
        assert registry.person_ids(SearchFilter(text="1234")) == [people["王五"]]
        assert registry.person_ids(SearchFilter(text="123X")) == [people["张小红"]]
        assert registry.person_ids(SearchFilter(text="123x")) == [people["张小红"]]
        assert registry.person_ids(SearchFilter(text="１２３４")) == [people["王五"]]
        assert registry.person_ids(SearchFilter(text="99999")) == []

    def test_chinese_substring(self, registry: RegistryService, people: dict[str, int]) -> None:
        assert registry.person_ids(SearchFilter(text="小红")) == [people["张小红"]]
        assert set(registry.person_ids(SearchFilter(text="张"))) == {people["张三"], people["张小红"]}
        assert registry.person_ids(SearchFilter(text="%")) == []  # LIKE wildcards are literal

    def test_empty_text_lists_everyone_by_initials(self, registry: RegistryService, people: dict[str, int]) -> None:
        assert names(registry, registry.person_ids(SearchFilter())) == ["李四", "孙七", "王五", "赵六", "张三", "张小红"]

    def test_village_filter_and_party_only(self, registry: RegistryService, people: dict[str, int],
                                           west: int, east: int) -> None:
        assert set(names(registry, registry.person_ids(SearchFilter(village_id=west)))) == {"张三", "李四", "王五"}
        assert names(registry, registry.person_ids(SearchFilter(text="z", village_id=east))) == ["赵六", "张小红"]
        assert set(names(registry, registry.person_ids(SearchFilter(party_only=True)))) == {"张三", "赵六"}
        assert names(registry, registry.person_ids(SearchFilter(party_only=True, village_id=east))) == ["赵六"]

    def test_ordering_and_descending(self, registry: RegistryService, people: dict[str, int]) -> None:
        by_birth = names(registry, registry.person_ids(SearchFilter(order="birth_date")))
        assert by_birth == ["赵六", "张三", "李四", "王五", "张小红", "孙七"]
        assert names(registry, registry.person_ids(SearchFilter(order="birth_date", descending=True))) == by_birth[::-1]
        by_name = names(registry, registry.person_ids(SearchFilter(order="name", descending=True)))
        assert by_name == ["张小红", "张三", "赵六", "王五", "孙七", "李四"]
        # an unknown column falls back to name order
        assert names(registry, registry.person_ids(SearchFilter(order="nonsense")))[0] == "李四"

    def test_rows_mask_id_and_phone(self, registry: RegistryService, people: dict[str, int]) -> None:
        row = registry.person_rows([people["张三"]])[people["张三"]]
        assert row.id_masked == ZHANG_SAN[:3] + "*" * 11 + ZHANG_SAN[-4:]
        assert ZHANG_SAN not in repr(row)
        assert row.phone_masked == "138****8000"
        assert (row.name, row.sex, row.village, row.party) == ("张三", "男", "西关村", "正式党员")
        assert registry.person_rows([]) == {}

    def test_person_rows_show_household(self, registry: RegistryService, west: int) -> None:
        hid = registry.save_household(household(west, "007", (ZHANG_SAN, "张三", "户主")))
        head = registry.get_household(hid).members[0][0]
        row = registry.person_rows([head.id])[head.id]
        assert (row.household_number, row.relation) == ("007", "户主")

    def test_household_search(self, registry: RegistryService, west: int, east: int) -> None:
        # GIVEN three households
        a = registry.save_household(household(west, "001", (ZHANG_SAN, "张三", "户主"), (LI_SI, "李四", "配偶")))
        b = registry.save_household(household(west, "002", (ZHAO_LIU, "赵六", "户主")))
        c = registry.save_household(household(east, "101", (WANG_WU, "王五", "户主")))
        # THEN they are found by head name, head initials, head ID tail and household number
        assert registry.household_ids(SearchFilter(text="张三")) == [a]
        assert registry.household_ids(SearchFilter(text="zs")) == [a]
        assert registry.household_ids(SearchFilter(text="zl")) == [b]
        assert registry.household_ids(SearchFilter(text=WANG_WU[-4:])) == [c]
        assert registry.household_ids(SearchFilter(text="00")) == [a, b]
        assert registry.household_ids(SearchFilter(text="李四")) == []  # members other than the head are not
        assert registry.household_ids(SearchFilter(village_id=east)) == [c]
        assert registry.household_ids(SearchFilter()) == [a, b, c]
        assert registry.household_ids(SearchFilter(descending=True)) == [c, b, a]
        rows = registry.household_rows([a, c])
        assert rows[a].head_name == "张三" and rows[a].member_count == 2 and rows[c].village == "东关村"


# ----- roles ---------------------------------------------------------------------


class TestRoles:
    def test_read_only_cannot_save(self, db: Database, registry: RegistryService, west: int,
                                   people: dict[str, int]) -> None:
        # GIVEN a read-only account
        reader = RegistryService(db, Actor("查看员", ROLE_READONLY))
        person = registry.get_person(people["张三"]).as_input()
        # WHEN it tries any change THEN each is refused, and nothing changed
        attempts = [
            lambda: reader.save_village(VillageInput(code="140821100209", name="新村")),
            lambda: reader.save_village(VillageInput(code=WEST, name="改名", id=west)),
            lambda: reader.delete_village(west),
            lambda: reader.save_person(PersonInput(pid(1988, 31), "新人", village_id=west)),
            lambda: reader.save_person(person),
            lambda: reader.delete_person(people["张三"]),
            lambda: reader.save_household(household(west, "001", (pid(1988, 31), "新人", "户主"))),
            lambda: reader.save_branch("支部", "党支部", village_id=west),
        ]
        for attempt in attempts:
            with pytest.raises(PermissionDenied) as caught:
                attempt()
            assert "只读" in caught.value.message
        assert registry.counts().people == 6 and registry.counts().villages == 2
        # BUT it can read everything
        assert len(reader.person_ids(SearchFilter())) == 6

    def test_village_clerk_is_limited_to_their_village(self, db: Database, registry: RegistryService, west: int,
                                                       east: int, people: dict[str, int]) -> None:
        # GIVEN the clerk of 西关村
        clerk = RegistryService(db, Actor("西关文书", ROLE_VILLAGE, village_id=west))
        # THEN they see only 西关村's people and households, whatever they filter on
        assert set(clerk.person_ids(SearchFilter())) == {people["张三"], people["李四"], people["王五"]}
        assert clerk.person_ids(SearchFilter(village_id=east)) == []
        assert clerk.person_ids(SearchFilter(text="z")) == [people["张三"]]
        assert [v.id for v in clerk.villages()] == [west]
        registry.save_household(household(east, "101", (pid(1980, 41), "吴九", "户主")))
        assert clerk.household_ids(SearchFilter()) == []
        assert clerk.household_ids(SearchFilter(village_id=east)) == []
        # AND they can save in their own village …
        hid = clerk.save_household(household(west, "001", (pid(1988, 31), "新人", "户主")))
        clerk.save_person(PersonInput(pid(1989, 32), "周八", village_id=west))
        assert clerk.household_ids(SearchFilter()) == [hid]
        # … but not in another one, nor take over another village's person
        with pytest.raises(PermissionDenied):
            clerk.save_person(PersonInput(pid(1990, 33), "外村人", village_id=east))
        with pytest.raises(PermissionDenied):
            clerk.save_household(household(east, "102", (pid(1990, 33), "外村人", "户主")))
        zhao = registry.get_person(people["赵六"]).as_input()
        zhao.village_id = west
        with pytest.raises(PermissionDenied):
            clerk.save_person(zhao)
        with pytest.raises(PermissionDenied):
            clerk.delete_person(people["赵六"])
        with pytest.raises(PermissionDenied):
            clerk.save_village(VillageInput(code=EAST, name="东关村", id=east))
        assert registry.get_person(people["赵六"]).village_id == east

    def test_township_cadre_may_write_everywhere(self, db: Database, west: int, east: int) -> None:
        cadre = RegistryService(db, Actor("张干部", ROLE_TOWNSHIP))
        cadre.save_person(PersonInput(ZHANG_SAN, "张三", village_id=west))
        cadre.save_person(PersonInput(LI_SI, "李四", village_id=east))
        assert len(cadre.person_ids(SearchFilter())) == 2


# ----- found while testing ------------------------------------------------------------


class TestEdgeCases:
    def test_full_id_number_finds_the_person(self, registry: RegistryService, people: dict[str, int]) -> None:
        spaced = ZHANG_SAN[:6] + " " + ZHANG_SAN[6:14] + " " + ZHANG_SAN[14:]
        assert registry.person_ids(SearchFilter(text=spaced)) == [people["张三"]]

    def test_inline_check_accepts_reusing_a_registered_person(self, registry: RegistryService, west: int) -> None:
        # GIVEN 赵六 is registered but in no household
        registry.save_person(PersonInput(ZHAO_LIU, "赵六", village_id=west))
        data = household(west, "002", (ZHAO_LIU, "赵六", "户主"))
        # WHEN the household dialog checks the form as it is typed
        problems = registry.check_household(data)
        # THEN reusing him is not an error (saving does exactly that) …
        assert [p for p in problems if p.severity == "error"] == []
        hid = registry.save_household(data)
        assert registry.counts().people == 1
        # … but someone already in a household still is
        problems = registry.check_household(household(west, "003", (ZHAO_LIU, "赵六", "户主")))
        assert [p.field for p in problems if p.severity == "error"] == ["members[0].id_number"]
        # … and so is changing a member's ID to another registered person's
        registry.save_person(PersonInput(LI_SI, "李四", village_id=west))
        edited = registry.get_household(hid).as_input()
        edited.members[0].person.id_number = LI_SI
        assert "members[0].id_number" in [p.field for p in registry.check_household(edited) if p.severity == "error"]
        with pytest.raises(ValidationFailed):
            registry.save_household(edited)

    def test_failed_save_leaves_the_form_input_as_typed(self, registry: RegistryService, west: int,
                                                        east: int) -> None:
        # GIVEN a clerk picked the wrong village and mistyped the second member's ID
        bad = LI_SI[:-1] + ("0" if LI_SI[-1] != "0" else "1")
        data = household(west, "001", (ZHANG_SAN, "张三", "户主"), (bad, "李四", "配偶"))
        with pytest.raises(ValidationFailed):
            registry.save_household(data)
        # WHEN they correct both and save the same form again
        data.village_id = east
        data.members[1].person.id_number = LI_SI
        hid = registry.save_household(data)
        # THEN everyone is registered in the village finally chosen
        assert [p.village_id for p, _ in registry.get_household(hid).members] == [east, east]
        assert data.members[0].person.village_id is None

    def test_village_with_a_party_branch_is_not_deleted_with_a_crash(self, registry: RegistryService,
                                                                     west: int) -> None:
        # GIVEN 西关村 has its party branch
        registry.save_branch("西关村党支部", "党支部", village_id=west)
        # WHEN the village is deleted THEN a domain message explains why not (no database error)
        with pytest.raises(DomainError) as caught:
            registry.delete_village(west)
        assert "西关村" in caught.value.message
        assert west in {v.id for v in registry.villages()}


class TestInitialise:
    def test_township_once(self, empty_db: Database) -> None:
        service = RegistryService(empty_db)
        with pytest.raises(DomainError) as caught:
            service.save_village(VillageInput(code=WEST, name="西关村"))
        assert "初始化" in caught.value.message
        service.initialise("township", " 临晋镇 ", "１４０８２１１００")
        assert [(t.code, t.name) for t in service.townships()] == [("140821100", "临晋镇")]
        assert empty_db.meta("mode") == "township" and empty_db.meta("root_code") == "140821100"
        with pytest.raises(DomainError):
            service.initialise("township", "临晋镇", "140821100")

    @pytest.mark.parametrize(("mode", "code"), [("township", "1408211"), ("county", "1408211"), ("city", "140821")])
    def test_bad_mode_or_code(self, empty_db: Database, mode: str, code: str) -> None:
        with pytest.raises(DomainError):
            RegistryService(empty_db).initialise(mode, "某地", code)
        assert empty_db.meta("mode") is None

    def test_county(self, empty_db: Database) -> None:
        service = RegistryService(empty_db)
        service.initialise("county", "临猗县", "140821")
        assert service.townships() == []
        tid = service.add_township("140821100", "临晋镇")
        vid = service.save_village(VillageInput(code=WEST, name="西关村", township_id=tid))
        assert service.villages()[0].id == vid and service.villages()[0].township_id == tid

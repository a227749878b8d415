"""A person's and a household's free text is held to its column's length by the dialog's rule, in the
importer's words (issue 17: the 人员 dialog stored a 备注 of 5000 characters while the import said
"备注最多400个字")."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.text_limits import import_message
from townapp.core.errors import ValidationFailed
from townapp.core.idcard import make_id_number
from townapp.registry.dto import HouseholdInput, MemberInput, PartyInput, PersonInput, VillageInput
from townapp.registry.service import RegistryService
from townapp.registry.validation import check_person


def pid(seq: int) -> str:
    return make_id_number("140821", dt.date(1970, 3, 4), seq)


@pytest.fixture
def village(registry: RegistryService) -> int:
    return registry.save_village(VillageInput(code="140821100201", name="东张村"))


def _refusal(save: object) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        save()  # type: ignore[operator]
    return caught.value


def test_a_note_of_5000_characters_is_refused_as_the_import_refuses_it(registry: RegistryService,
                                                                        village: int) -> None:
    """GIVEN the 人员 dialog WHEN a person is saved with a 备注 of 5000 characters
    THEN the service refuses it at the 备注 field with the import report's message, and stores nobody."""
    note = "备" * 5000
    refused = _refusal(lambda: registry.save_person(PersonInput(pid(11), "张三", village_id=village, note=note)))
    assert [(p.field, p.message) for p in refused.problems] == [("note", import_message("person", "note", note))]
    assert refused.problems[0].message == "备注最多400个字，现在有5000个，请精简"
    assert registry.find_person_by_id_number(pid(11)) is None
    # and 400 characters, the most the import takes, are kept
    registry.save_person(PersonInput(pid(13), "李四", village_id=village, note="备" * 400))


def test_every_free_text_field_of_a_person_says_what_the_import_says(registry: RegistryService, village: int) -> None:
    """GIVEN a name, a 流动去向 and a 设岗定责岗位 one character over their columns
    WHEN checked by the dialog's rule (check_person) THEN each is named at its field, in the import's words."""
    name, destination, duty = "张" * 65, "太" * 101, "岗" * 65
    problems, _ = check_person(PersonInput(pid(11), name, village_id=village, party=PartyInput(
        mobility="流动", mobility_since=dt.date(2021, 7, 1), destination=destination, duty_post=duty)))
    found = {p.field: p.message for p in problems}
    assert found["name"] == import_message("person", "name", name)
    assert found["party.destination"] == import_message("party_member", "destination", destination)
    assert found["party.duty_post"] == import_message("party_member", "duty_post", duty)


def test_a_household_address_and_note_are_held_to_the_household_sheet(registry: RegistryService,
                                                                       village: int) -> None:
    """GIVEN the 住户 dialog WHEN a household is saved with a 201-character 地址 and a 401-character 备注
    THEN both are refused at their fields with the 住户 sheet's messages."""
    address, note = "路" * 201, "备" * 401
    refused = _refusal(lambda: registry.save_household(HouseholdInput(
        village_id=village, number="0001", members=[MemberInput(PersonInput(pid(11), "张三"), "户主")],
        address=address, note=note)))
    found = {p.field: p.message for p in refused.problems}
    assert found == {"address": import_message("household", "address", address),
                     "note": import_message("household", "note", note)}


def test_a_long_name_within_its_column_is_kept_with_its_initials_cut_to_theirs(registry: RegistryService,
                                                                               village: int) -> None:
    """GIVEN a 64-character name (the most the column and the import take), whose pinyin initials are
    longer than their String(32) column WHEN the person is saved THEN the flush guard does not refuse the
    derived initials: they are cut to 32 as the person sheet cuts them, and the name is kept whole."""
    person_id = registry.save_person(PersonInput(pid(11), "阿" * 64, village_id=village))
    assert registry.get_person(person_id).name == "阿" * 64

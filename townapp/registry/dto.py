"""What the registry service takes and gives: plain dataclasses, never ORM objects."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True)
class TownshipDTO:
    id: int
    code: str
    name: str


@dataclass(frozen=True)
class VillageRow:
    id: int
    township_id: int
    code: str
    name: str
    kind: str
    groups: tuple[str, ...]
    households: int
    people: int
    party_members: int


@dataclass
class VillageInput:
    code: str
    name: str
    kind: str = "村"
    groups: list[str] = field(default_factory=list)
    township_id: int | None = None
    id: int | None = None


@dataclass
class PartyInput:
    member_type: str = "正式党员"
    joined_on: dt.date | None = None
    confirmed_on: dt.date | None = None
    branch_id: int | None = None
    group_id: int | None = None
    party_post: str | None = None
    status: str = "正常"
    status_date: dt.date | None = None
    mobility: str = "在村"
    mobility_since: dt.date | None = None
    destination: str | None = None
    points_category: str = "无职"
    duty_post: str | None = None


@dataclass
class PersonInput:
    id_number: str
    name: str
    sex: str | None = None  # derived from the ID when empty, cross-checked when given
    birth_date: dt.date | None = None
    ethnicity: str = "汉族"
    education: str | None = None
    phone: str | None = None
    village_id: int | None = None
    note: str | None = None
    party: PartyInput | None = None
    id: int | None = None


@dataclass(frozen=True)
class PersonDTO:
    id: int
    id_number: str
    name: str
    sex: str
    birth_date: dt.date
    ethnicity: str
    education: str | None
    phone: str | None
    village_id: int | None
    note: str | None
    household_id: int | None
    party: PartyInput | None

    def as_input(self) -> PersonInput:
        return PersonInput(id_number=self.id_number, name=self.name, sex=self.sex, birth_date=self.birth_date,
                           ethnicity=self.ethnicity, education=self.education, phone=self.phone,
                           village_id=self.village_id, note=self.note, party=self.party, id=self.id)


@dataclass(frozen=True)
class PersonRow:
    """One line of the people table; the ID is already masked."""

    id: int
    name: str
    sex: str
    birth_date: dt.date
    id_masked: str
    village: str
    household_number: str
    relation: str
    phone_masked: str
    party: str


@dataclass
class MemberInput:
    person: PersonInput
    relation: str


@dataclass
class HouseholdInput:
    village_id: int
    number: str
    members: list[MemberInput] = field(default_factory=list)
    group_id: int | None = None
    address: str | None = None
    phone: str | None = None
    note: str | None = None
    id: int | None = None


@dataclass(frozen=True)
class HouseholdRow:
    id: int
    village: str
    group: str
    number: str
    head_name: str
    member_count: int
    address: str


@dataclass(frozen=True)
class HouseholdDTO:
    id: int
    village_id: int
    group_id: int | None
    number: str
    address: str | None
    phone: str | None
    note: str | None
    members: tuple[tuple[PersonDTO, str], ...]

    def as_input(self) -> HouseholdInput:
        return HouseholdInput(village_id=self.village_id, number=self.number, group_id=self.group_id,
                              address=self.address, phone=self.phone, note=self.note, id=self.id,
                              members=[MemberInput(p.as_input(), rel) for p, rel in self.members])


@dataclass(frozen=True)
class BranchDTO:
    id: int
    name: str
    kind: str
    parent_id: int | None
    village_id: int | None


@dataclass(frozen=True)
class SearchFilter:
    """Search text (name, pinyin initials or ID tail), village, and sort order."""

    text: str = ""
    village_id: int | None = None
    party_only: bool = False
    order: str = "name"
    descending: bool = False


@dataclass(frozen=True)
class Counts:
    villages: int
    households: int
    people: int
    party_members: int

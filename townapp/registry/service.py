"""Registry use cases. Each public method is one unit of work and returns DTOs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import ColumnElement, Connection, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from townapp.core import permissions
from townapp.core.actor import SYSTEM_ACTOR, Actor
from townapp.core.dates import kept_month, month_dates_of, with_month_dates
from townapp.core.errors import DomainError, FieldProblem, ValidationFailed
from townapp.core.idcard import mask_id_number, mask_phone, normalize_id_number
from townapp.core.pinyin import initials
from townapp.core.text import clean_name, normalize_phone, remove_spaces, to_halfwidth
from townapp.db import Database
from townapp.db.base import MetaEntry, get_or_missing
from townapp.db.batch import ModuleBatch
from townapp.db.fast import fetch_first_column
from townapp.db.prefix import starts_with
from townapp.registry import models as m
from townapp.registry.dto import (
    BranchDTO,
    Counts,
    HouseholdDTO,
    HouseholdInput,
    HouseholdRow,
    PartyInput,
    PersonDTO,
    PersonInput,
    PersonRow,
    SearchFilter,
    TownshipDTO,
    VillageInput,
    VillageRow,
)
from townapp.registry.validation import (
    COUNTY_CODE,
    PARTY_VOCABULARIES,
    TOWNSHIP_CODE,
    VILLAGE_CODE,
    check_household,
    check_person,
)
from townapp.registry.vocab import vocab

_PARTY_FIELDS = tuple(PartyInput.__dataclass_fields__)


def prefix_range(column: ColumnElement, prefix: str) -> ColumnElement[bool]:
    """``column`` starts with ``prefix``: an indexable range on SQLite, right under any collation elsewhere."""
    return starts_with(column, prefix)


def search_condition(text: str, name: ColumnElement, name_initials: ColumnElement,
                     id_rev: ColumnElement | None = None) -> ColumnElement[bool] | None:
    """Name (contains), pinyin initials (prefix) or ID tail (suffix) — whatever the text looks like."""
    text = remove_spaces(to_halfwidth(text))
    if not text:
        return None
    if text.isascii():
        lowered = text.lower()
        conditions = []
        if lowered.isalpha():
            conditions.append(prefix_range(name_initials, lowered))
        if id_rev is not None and all(c.isdigit() or c in "xX" for c in text):
            conditions.append(prefix_range(id_rev, text.upper()[::-1]))
        if not conditions:
            conditions.append(name.contains(text, autoescape=True))
        return or_(*conditions) if len(conditions) > 1 else conditions[0]
    return name.contains(text, autoescape=True)


class RegistryService:
    """Townships, villages, households, people and party members."""

    def __init__(self, db: Database, actor: Actor = SYSTEM_ACTOR) -> None:
        self.db = db
        self.actor = actor

    # ----- permissions -------------------------------------------------
    def _require_write(self, village_id: int | None) -> None:
        permissions.require_write(self.actor, village_id)

    def _require_read(self, village_id: int | None) -> None:
        permissions.require_read(self.actor, village_id)

    def _visible_village(self) -> int | None:
        return permissions.visible_village(self.actor)

    # ----- database root ---------------------------------------------
    def initialise(self, mode: str, name: str, code: str, village: tuple[str, str] | None = None) -> None:
        """Record what this database is: one township, or a county that imports townships.

        ``village``: (区划代码, name) for a village install — a 村录入员's own laptop holding one village of
        the township: it sends its village up as a package and takes the township's package back."""
        code = remove_spaces(to_halfwidth(code))
        name = clean_name(name)
        permissions.require_township(self.actor, "初始化数据库")
        if mode not in ("township", "county"):
            raise DomainError("模式应为 township（乡镇）或 county（县）")
        if not name:
            raise ValidationFailed([FieldProblem("name", "名称不能为空")])
        pattern = TOWNSHIP_CODE if mode == "township" else COUNTY_CODE
        if not pattern.match(code):
            raise ValidationFailed([FieldProblem("code", "乡镇区划代码应为9位或12位数字" if mode == "township"
                                                 else "县区划代码应为6位数字")])
        with self.db.unit_of_work(self.actor) as s:
            if s.get(MetaEntry, "mode") is not None:
                raise DomainError("这个数据库已经初始化过了")
            for key, value in (("mode", mode), ("root_name", name), ("root_code", code)):
                s.add(MetaEntry(key=key, value=value))
            if mode == "township":
                township = m.Township(code=code, name=name)
                s.add(township)
                if village is not None:
                    village_code, village_name = remove_spaces(to_halfwidth(village[0])), clean_name(village[1])
                    if not (len(village_code) == 12 and village_code.isdigit() and village_code.startswith(code[:9])):
                        raise ValidationFailed([FieldProblem("village", f"村区划代码应为12位数字，且以乡镇的区划代码"
                                                                        f"{code[:9]}开头（现为{village_code}）")])
                    if not village_name:
                        raise ValidationFailed([FieldProblem("village_name", "村名称不能为空")])
                    s.flush()
                    s.add(m.Village(township_id=township.id, code=village_code, name=village_name,
                                    name_initials=initials(village_name)))
                    s.add(MetaEntry(key="village_code", value=village_code))
            elif village is not None:
                raise DomainError("村级安装属于一个乡镇，不能是县级数据库")

    def add_township(self, code: str, name: str) -> int:
        """County mode: a township whose packages will be imported."""
        permissions.require_township(self.actor, "新增乡镇")
        with self.db.unit_of_work(self.actor) as s:
            township = m.Township(code=remove_spaces(to_halfwidth(code)), name=clean_name(name))
            s.add(township)
            s.flush()
            return township.id

    # ----- township and villages ---------------------------------------
    def townships(self) -> list[TownshipDTO]:
        with self.db.reader() as s:
            return [TownshipDTO(t.id, t.code, t.name) for t in s.scalars(select(m.Township).order_by(m.Township.code))]

    def villages(self) -> list[VillageRow]:
        with self.db.reader() as s:
            households = dict(s.execute(select(m.Household.village_id, func.count()).group_by(m.Household.village_id)).all())
            people = dict(s.execute(select(m.Person.village_id, func.count()).group_by(m.Person.village_id)).all())
            party = dict(s.execute(select(m.Person.village_id, func.count()).join(m.PartyMember)
                                   .group_by(m.Person.village_id)).all())
            query = select(m.Village).order_by(m.Village.code)
            visible = self._visible_village()
            if visible is not None:
                query = query.where(m.Village.id == visible)
            return [VillageRow(v.id, v.township_id, v.code, v.name, v.kind, tuple(g.name for g in v.groups),
                               households.get(v.id, 0), people.get(v.id, 0), party.get(v.id, 0))
                    for v in s.scalars(query)]

    def village_groups(self, village_id: int) -> list[tuple[int, str]]:
        self._require_read(village_id)
        with self.db.reader() as s:
            rows = s.execute(select(m.VillageGroup.id, m.VillageGroup.name)
                             .where(m.VillageGroup.village_id == village_id).order_by(m.VillageGroup.id))
            return [(r[0], r[1]) for r in rows]

    def _require_village_write(self, village_id: int | None) -> None:
        """New villages are township business; a clerk may only edit their own village's record."""
        if village_id is None:
            permissions.require_township(self.actor, "新增村/社区")
        else:
            self._require_write(village_id)

    def check_village(self, data: VillageInput) -> list[FieldProblem]:
        self._require_village_write(data.id)
        problems = []
        code = remove_spaces(to_halfwidth(data.code or ""))
        if not VILLAGE_CODE.match(code):
            problems.append(FieldProblem("code", "区划代码应为12位数字"))
        if not clean_name(data.name or ""):
            problems.append(FieldProblem("name", "村/社区名称不能为空"))
        if vocab("village_kind").canonical(data.kind) is None:
            problems.append(FieldProblem("kind", "类别应为 村 或 社区"))
        groups = [clean_name(g) for g in data.groups if clean_name(g)]
        if len(set(groups)) != len(groups):
            problems.append(FieldProblem("groups", "村民小组名称重复"))
        if not problems:
            with self.db.reader() as s:
                other = s.scalar(select(m.Village).where(m.Village.code == code))
                if other is not None and other.id != data.id:
                    problems.append(FieldProblem("code", f"区划代码 {code} 已属于 {other.name}"))
        return problems

    def save_village(self, data: VillageInput) -> int:
        problems = self.check_village(data)
        if problems:
            raise ValidationFailed(problems)
        with self.db.unit_of_work(self.actor) as s:
            if data.id is None:
                township_id = data.township_id or s.scalar(select(m.Township.id).order_by(m.Township.id))
                if township_id is None:
                    raise DomainError("数据库中还没有乡镇，请先初始化数据库")
                village = m.Village(township_id=township_id)
                s.add(village)
            else:
                village = self._get(s, m.Village, data.id, "村/社区")
                if data.township_id:
                    village.township_id = data.township_id
            village.code = remove_spaces(to_halfwidth(data.code))
            village.name = clean_name(data.name)
            village.name_initials = initials(village.name)
            village.kind = vocab("village_kind").canonical(data.kind) or "村"
            wanted = [clean_name(g) for g in data.groups if clean_name(g)]
            existing = {g.name: g for g in village.groups}
            for name, group in existing.items():
                if name not in wanted:
                    # its households lose the group through the ORM (audited), not by ON DELETE SET NULL
                    for household in s.scalars(select(m.Household).where(m.Household.group_id == group.id)):
                        household.group_id = None
                    village.groups.remove(group)
            for name in wanted:
                if name not in existing:
                    village.groups.append(m.VillageGroup(name=name))
            s.flush()
            return village.id

    def delete_village(self, village_id: int) -> None:
        permissions.require_township(self.actor, "删除村/社区")
        with self.db.unit_of_work(self.actor) as s:
            village = self._get(s, m.Village, village_id, "村/社区")
            used = s.scalar(select(func.count()).select_from(m.Household).where(m.Household.village_id == village_id))
            used += s.scalar(select(func.count()).select_from(m.Person).where(m.Person.village_id == village_id))
            if used:
                raise DomainError(f"{village.name}还有住户或人员登记，不能删除；请先移走或删除它们")
            name = village.name
            s.delete(village)
            try:
                s.flush()
            except IntegrityError:  # still referenced elsewhere: a party branch, another module's records
                raise DomainError(f"{name}还有党组织等其他记录引用，不能删除；请先移走或删除它们") from None

    # ----- people --------------------------------------------------------
    def check_person(self, data: PersonInput) -> list[FieldProblem]:
        """Inline validation for dialogs: field rules plus uniqueness of the ID number."""
        self._require_write(data.village_id)
        problems, info = check_person(data)
        if info is not None:
            with self.db.reader() as s:
                problems.extend(self._id_conflicts(s, info.number, data.id))
        return problems

    def _id_conflicts(self, s: Session, number: str, own_id: int | None) -> list[FieldProblem]:
        other = s.execute(select(m.Person.id, m.Person.name, m.Village.name, m.Person.village_id).outerjoin(m.Village)
                          .where(m.Person.id_number == number)).first()
        if other is not None and other[0] != own_id:
            if self._visible_village() is not None and other[3] != self._visible_village():  # names no one elsewhere
                return [FieldProblem("id_number", "该身份证号已在其他村登记，同一人只登记一次；"
                                                  "如此人迁入本村，请乡镇干部办理")]
            where = f"（{other[2]}）" if other[2] else ""
            return [FieldProblem("id_number", f"该身份证号已登记为 {other[1]}{where}，同一人只登记一次")]
        return []

    def save_person(self, data: PersonInput) -> int:
        self._require_write(data.village_id)
        with self.db.unit_of_work(self.actor) as s:
            person = self._upsert_person(s, data, field_prefix="")
            return person.id

    def _upsert_person(self, s: Session, data: PersonInput, field_prefix: str) -> m.Person:
        problems, info = check_person(data)
        if info is not None:
            problems.extend(self._id_conflicts(s, info.number, data.id))
        errors = [p for p in problems if p.severity == "error"]
        if errors:
            raise ValidationFailed([FieldProblem(field_prefix + p.field, p.message, p.severity) for p in errors])
        assert info is not None
        if data.id is not None:
            person = self._get(s, m.Person, data.id, "人员")
            permissions.require_write(self.actor, person.village_id, "人员")
        else:
            person = m.Person()
            s.add(person)
        person.id_number = info.number
        person.id_number_rev = info.number[::-1]
        person.name = clean_name(data.name)
        person.name_initials = initials(person.name)[:32]  # String(32), as the person sheet stores them
        person.sex = info.sex
        person.birth_date = info.birth_date
        person.ethnicity = vocab("ethnicity").canonical(data.ethnicity) or "汉族"
        person.education = vocab("education").canonical(data.education) if data.education else None
        person.phone = normalize_phone(data.phone) if data.phone else None
        person.village_id = data.village_id
        person.note = (data.note or "").strip() or None
        s.flush()
        self._save_party(s, person, data.party)
        return person

    def _save_party(self, s: Session, person: m.Person, party: PartyInput | None) -> None:
        member = s.scalar(select(m.PartyMember).where(m.PartyMember.person_id == person.id))
        if party is None:
            if member is not None:
                s.delete(member)
            return
        if member is None:
            member = m.PartyMember(person_id=person.id)
            s.add(member)
        dates = with_month_dates({n: getattr(member, n) for n in m.PARTY_MONTH_DATES}, member.month_dates)
        for name in _PARTY_FIELDS:
            value = getattr(party, name)
            if name in PARTY_VOCABULARIES:
                value = vocab(PARTY_VOCABULARIES[name]).canonical(value)
            elif isinstance(value, str):
                value = value.strip() or None
            elif name in dates:  # a month (入党时间 1978.02) stays a month unless a day is given
                value = dates[name] = kept_month(dates[name], value)
            setattr(member, name, value)
        if member.mobility == "在村":
            member.mobility_since = dates["mobility_since"] = None
            member.destination = None
        member.month_dates = month_dates_of(dates, m.PARTY_MONTH_DATES)

    def get_person(self, person_id: int) -> PersonDTO:
        with self.db.reader() as s:
            person = self._get(s, m.Person, person_id, "人员")
            self._require_read(person.village_id)
            return self._person_dto(s, person)

    def find_person_by_id_number(self, raw: str) -> PersonDTO | None:
        """The person with this ID, or None — also for a clerk when they are registered in another village,
        so the answer never tells a clerk whether an ID exists elsewhere in the township."""
        with self.db.reader() as s:
            person = s.scalar(select(m.Person).where(m.Person.id_number == normalize_id_number(raw)))
            if person is None or not permissions.may_read(self.actor, person.village_id):
                return None
            return self._person_dto(s, person)

    def _person_dto(self, s: Session, p: m.Person) -> PersonDTO:
        member = s.scalar(select(m.PartyMember).where(m.PartyMember.person_id == p.id))
        party = None if member is None else PartyInput(**with_month_dates({n: getattr(member, n) for n in _PARTY_FIELDS},
                                                                          member.month_dates))
        household_id = s.scalar(select(m.HouseholdMember.household_id).where(m.HouseholdMember.person_id == p.id))
        return PersonDTO(p.id, p.id_number, p.name, p.sex, p.birth_date, p.ethnicity, p.education, p.phone,
                         p.village_id, p.note, household_id, party)

    def delete_person(self, person_id: int) -> None:
        with self.db.unit_of_work(self.actor) as s:
            person = self._get(s, m.Person, person_id, "人员")
            self._require_write(person.village_id)
            link = s.scalar(select(m.HouseholdMember).where(m.HouseholdMember.person_id == person_id))
            if link is not None and link.relation == "户主" and len(link.household.members) > 1:
                raise DomainError(f"{person.name}是户主，请先在住户中更换户主再删除")
            member = s.scalar(select(m.PartyMember).where(m.PartyMember.person_id == person_id))
            if member is not None:
                s.delete(member)
            if link is not None:
                s.delete(link)
            s.delete(person)

    def person_ids(self, f: SearchFilter) -> list[int]:
        """Ordered ids of the people matching ``f``: what the table model pages over."""
        query = select(m.Person.id)
        condition = search_condition(f.text, m.Person.name, m.Person.name_initials, m.Person.id_number_rev)
        if condition is not None:
            query = query.where(condition)
        village = f.village_id or self._visible_village()
        if self._visible_village() is not None and f.village_id not in (None, self._visible_village()):
            return []
        if village is not None:
            query = query.where(m.Person.village_id == village)
        if f.party_only:
            query = query.where(m.Person.id.in_(select(m.PartyMember.person_id)))
        orders = {
            "name": (m.Person.name_initials, m.Person.name),
            "sex": (m.Person.sex,),
            "birth_date": (m.Person.birth_date,),
            "id_masked": (m.Person.id_number,),
            "village": (m.Person.village_id,),
            "phone_masked": (m.Person.phone,),
        }
        columns = orders.get(f.order, orders["name"]) + (m.Person.id,)
        query = query.order_by(*(c.desc() if f.descending else c for c in columns))
        return fetch_first_column(self.db.engine, query)

    def person_rows(self, ids: Sequence[int]) -> dict[int, PersonRow]:
        """Rows for one page of ids (the model asks for a few hundred at a time)."""
        if not ids:
            return {}
        query = (
            select(m.Person.id, m.Person.name, m.Person.sex, m.Person.birth_date, m.Person.id_number,
                   m.Village.name, m.Household.number, m.HouseholdMember.relation, m.Person.phone,
                   m.PartyMember.member_type)
            .outerjoin(m.Village, m.Village.id == m.Person.village_id)
            .outerjoin(m.HouseholdMember, m.HouseholdMember.person_id == m.Person.id)
            .outerjoin(m.Household, m.Household.id == m.HouseholdMember.household_id)
            .outerjoin(m.PartyMember, m.PartyMember.person_id == m.Person.id)
            .where(m.Person.id.in_(list(ids)))
        )
        if self._visible_village() is not None:
            query = query.where(m.Person.village_id == self._visible_village())
        with self.db.engine.connect() as conn:
            return {
                r[0]: PersonRow(r[0], r[1], r[2], r[3], mask_id_number(r[4]), r[5] or "", r[6] or "", r[7] or "",
                                mask_phone(r[8]), r[9] or "")
                for r in conn.execute(query)
            }

    # ----- households ------------------------------------------------------
    def check_household(self, data: HouseholdInput) -> list[FieldProblem]:
        self._require_write(data.village_id)
        problems = check_household(data)
        for index, member in enumerate(data.members):
            # a member typed by the ID number of a registered person is that person (saving reuses
            # them); whether they already live in another household is a household conflict below
            member_problems = (self.check_person(replace(member.person, village_id=member.person.village_id
                                                         or data.village_id))
                               if member.person.id is not None
                               else check_person(member.person)[0])
            problems.extend(FieldProblem(f"members[{index}].{p.field}", p.message, p.severity) for p in member_problems)
        with self.db.reader() as s:
            problems.extend(self._household_conflicts(s, data))
        return problems

    def _household_conflicts(self, s: Session, data: HouseholdInput) -> list[FieldProblem]:
        problems = []
        number = (data.number or "").strip()
        other = s.scalar(select(m.Household.id).where(m.Household.village_id == data.village_id,
                                                      m.Household.number == number))
        if number and other is not None and other != data.id:
            problems.append(FieldProblem("number", f"本村已有户编号 {number}，请换一个"))
        for index, member in enumerate(data.members):
            number_ = normalize_id_number(member.person.id_number or "")
            row = s.execute(
                select(m.Household.number, m.Village.name, m.Household.id, m.Household.village_id)
                .join(m.HouseholdMember, m.HouseholdMember.household_id == m.Household.id)
                .join(m.Person, m.Person.id == m.HouseholdMember.person_id)
                .join(m.Village, m.Village.id == m.Household.village_id)
                .where(m.Person.id_number == number_)
            ).first()
            if row is not None and row[2] != data.id:
                elsewhere = self._visible_village() is not None and row[3] != self._visible_village()
                problems.append(FieldProblem(f"members[{index}].id_number", "此人已登记在其他村的住户中，请乡镇干部办理迁入"
                                             if elsewhere else f"此人已登记在{row[1]} {row[0]} 户，请先从原户移出"))
        return problems

    def save_household(self, data: HouseholdInput) -> int:
        """Create or update a household with its members; people are found by ID number and reused."""
        self._require_write(data.village_id)
        problems = [p for p in check_household(data) if p.severity == "error"]
        if problems:
            raise ValidationFailed(problems)
        with self.db.unit_of_work(self.actor) as s:
            conflicts = self._household_conflicts(s, data)
            if conflicts:
                raise ValidationFailed(conflicts)
            if data.id is None:
                household = m.Household(village_id=data.village_id)
                s.add(household)
            else:
                household = self._get(s, m.Household, data.id, "住户")
                self._require_write(household.village_id)
            household.village_id = data.village_id
            household.number = data.number.strip()
            household.group_id = data.group_id
            household.address = (data.address or "").strip() or None
            household.phone = normalize_phone(data.phone) if data.phone else None
            household.note = (data.note or "").strip() or None
            s.flush()
            kept: list[m.HouseholdMember] = []
            for index, member in enumerate(data.members):
                person_input = self._merge_registered(s, member.person)
                if person_input.village_id is None:  # a copy: the caller's form input stays as typed
                    person_input = replace(person_input, village_id=data.village_id)
                person = self._upsert_person(s, person_input, field_prefix=f"members[{index}].")
                link = next((x for x in household.members if x.person_id == person.id), None)
                if link is None:
                    link = m.HouseholdMember(person_id=person.id)
                    household.members.append(link)
                link.relation = vocab("relation").canonical(member.relation) or "其他"
                link.position = index
                kept.append(link)
            for link in list(household.members):
                if link not in kept:
                    household.members.remove(link)
            s.flush()
            return household.id

    def _merge_registered(self, s: Session, given: PersonInput) -> PersonInput:
        """A member typed by ID number who is already registered: reuse that person.

        Only what the household form carries (name, phone, village) is taken from
        the form; everything else (ethnicity, party membership …) stays as registered.
        """
        if given.id is not None:
            return given
        existing = s.scalar(select(m.Person).where(m.Person.id_number == normalize_id_number(given.id_number)))
        if existing is None:
            return given
        merged = self._person_dto(s, existing).as_input()
        merged.name = given.name or merged.name
        merged.phone = given.phone or merged.phone
        merged.village_id = given.village_id or merged.village_id
        return merged

    def get_household(self, household_id: int) -> HouseholdDTO:
        with self.db.reader() as s:
            h = self._get(s, m.Household, household_id, "住户")
            self._require_read(h.village_id)
            members = tuple((self._person_dto(s, link.person), link.relation) for link in h.members)
            return HouseholdDTO(h.id, h.village_id, h.group_id, h.number, h.address, h.phone, h.note, members)

    def delete_household(self, household_id: int, *, with_people: bool = False) -> None:
        """Remove a household; its people stay registered unless ``with_people``."""
        with self.db.unit_of_work(self.actor) as s:
            household = self._get(s, m.Household, household_id, "住户")
            self._require_write(household.village_id)
            people = [link.person for link in household.members]
            s.delete(household)
            s.flush()
            if with_people:
                for person in people:  # through the ORM, so the audit hook sees every row removed
                    member = s.scalar(select(m.PartyMember).where(m.PartyMember.person_id == person.id))
                    if member is not None:
                        s.delete(member)
                    s.delete(person)

    def household_ids(self, f: SearchFilter) -> list[int]:
        head = (select(m.HouseholdMember.household_id, m.Person.name, m.Person.name_initials, m.Person.id_number_rev)
                .join(m.Person, m.Person.id == m.HouseholdMember.person_id)
                .where(m.HouseholdMember.relation == "户主").subquery())
        query = select(m.Household.id).outerjoin(head, head.c.household_id == m.Household.id)
        text = remove_spaces(to_halfwidth(f.text))
        if text:
            condition = search_condition(text, head.c.name, head.c.name_initials, head.c.id_number_rev)
            query = query.where(or_(condition, prefix_range(m.Household.number, text)))
        village = f.village_id or self._visible_village()
        if self._visible_village() is not None and f.village_id not in (None, self._visible_village()):
            return []
        if village is not None:
            query = query.where(m.Household.village_id == village)
        orders = {"number": (m.Household.village_id, m.Household.number), "village": (m.Household.village_id,),
                  "head_name": (head.c.name_initials,), "address": (m.Household.address,)}
        columns = orders.get(f.order, orders["number"]) + (m.Household.id,)
        query = query.order_by(*(c.desc() if f.descending else c for c in columns))
        return fetch_first_column(self.db.engine, query)

    def household_rows(self, ids: Sequence[int]) -> dict[int, HouseholdRow]:
        if not ids:
            return {}
        id_list = list(ids)
        counts = (select(m.HouseholdMember.household_id, func.count().label("n"))
                  .where(m.HouseholdMember.household_id.in_(id_list))
                  .group_by(m.HouseholdMember.household_id).subquery())
        head = (select(m.HouseholdMember.household_id, m.Person.name)
                .join(m.Person, m.Person.id == m.HouseholdMember.person_id)
                .where(m.HouseholdMember.relation == "户主", m.HouseholdMember.household_id.in_(id_list)).subquery())
        query = (select(m.Household.id, m.Village.name, m.VillageGroup.name, m.Household.number, head.c.name,
                        counts.c.n, m.Household.address)
                 .join(m.Village, m.Village.id == m.Household.village_id)
                 .outerjoin(m.VillageGroup, m.VillageGroup.id == m.Household.group_id)
                 .outerjoin(head, head.c.household_id == m.Household.id)
                 .outerjoin(counts, counts.c.household_id == m.Household.id)
                 .where(m.Household.id.in_(id_list)))
        if self._visible_village() is not None:
            query = query.where(m.Household.village_id == self._visible_village())
        with self.db.engine.connect() as conn:
            return {r[0]: HouseholdRow(r[0], r[1], r[2] or "", r[3], r[4] or "", r[5] or 0, r[6] or "")
                    for r in conn.execute(query)}

    # ----- party branches ----------------------------------------------------
    def branches(self, village_id: int | None = None) -> list[BranchDTO]:
        if village_id is not None:
            self._require_read(village_id)
        visible = self._visible_village()
        with self.db.reader() as s:
            query = select(m.PartyBranch).order_by(m.PartyBranch.id)
            if visible is not None:  # a clerk sees the township's organisations and their own village's
                query = query.where(or_(m.PartyBranch.village_id == visible, m.PartyBranch.village_id.is_(None)))
            if village_id is not None:
                query = query.where(or_(m.PartyBranch.village_id == village_id, m.PartyBranch.village_id.is_(None)))
            return [BranchDTO(b.id, b.name, b.kind, b.parent_id, b.village_id) for b in s.scalars(query)]

    def save_branch(self, name: str, kind: str, parent_id: int | None = None, village_id: int | None = None,
                    branch_id: int | None = None) -> int:
        self._require_write(village_id)
        canonical = vocab("branch_kind").canonical(kind)
        if canonical is None:
            raise ValidationFailed([FieldProblem("kind", f"组织类别“{kind}”应为 党委/党总支/党支部/党小组")])
        if not clean_name(name):
            raise ValidationFailed([FieldProblem("name", "组织名称不能为空")])
        with self.db.unit_of_work(self.actor) as s:
            branch = self._get(s, m.PartyBranch, branch_id, "党组织") if branch_id else m.PartyBranch()
            if branch_id:
                self._require_write(branch.village_id)
            branch.name, branch.kind, branch.parent_id, branch.village_id = clean_name(name), canonical, parent_id, village_id
            s.add(branch)
            s.flush()
            return branch.id

    # ----- set-based writes (imports, packages) --------------------------------
    def batch_writer(self, conn: Connection, *, batch_id: int | None = None, reason: str | None = None,
                     now: dt.datetime | None = None) -> RegistryBatch:
        """The registry's door for set-based writes (imports, packages): see ``ModuleBatch.open``."""
        return RegistryBatch.open(conn, self.actor, "户籍数据", batch_id=batch_id, reason=reason, now=now)

    # ----- summaries -----------------------------------------------------------
    def counts(self) -> Counts:
        """Totals for the status bar; a village clerk's are their village's."""
        visible = self._visible_village()
        with self.db.engine.connect() as conn:
            def count(model: type, village: ColumnElement | None) -> int:
                query = select(func.count()).select_from(model)
                if visible is not None and village is not None:
                    query = query.where(village == visible)
                return conn.execute(query).scalar_one()

            party = (select(func.count()).select_from(m.PartyMember).join(m.Person)
                     .where(m.Person.village_id == visible)) if visible is not None else None
            return Counts(count(m.Village, m.Village.id), count(m.Household, m.Household.village_id),
                          count(m.Person, m.Person.village_id),
                          conn.execute(party).scalar_one() if party is not None else count(m.PartyMember, None))

    # ----- helpers -----------------------------------------------------------
    @staticmethod
    def _get(s: Session, model: type, key: int | None, label: str):  # noqa: ANN205
        return get_or_missing(s, model, key, f"{label}不存在或已被删除（编号 {key}）")



class RegistryBatch(ModuleBatch):
    """Set-based writes of the registry's tables, each audited per record (see ``db/batch.py``).

    Only ``RegistryService.batch_writer`` makes one, after its role check; the import
    adapters turn rows into records and hand them here.
    """

    models = (m.Township, m.Village, m.VillageGroup, m.PartyBranch, m.Household, m.HouseholdMember, m.Person,
              m.PartyMember)

    def set_household_links(self, rows: Sequence[Mapping[str, Any]]) -> set[int]:
        """Move people between households: ``{"person_id", "household_id", "relation", "position"}``."""
        table = m.HouseholdMember.__table__
        ids: dict[int, int] = {}
        for part in self.parts([r["person_id"] for r in rows]):
            ids.update(self.writer.conn.execute(select(table.c.person_id, table.c.id)
                                                .where(table.c.person_id.in_(part))).all())
        return self.change(m.HouseholdMember, [{"id": ids[r["person_id"]], "household_id": r["household_id"],
                                                "relation": r["relation"], "position": r["position"]}
                                               for r in rows if r["person_id"] in ids])

    def remove_household_links(self, person_ids: Sequence[int]) -> set[int]:
        refused: set[int] = set()
        for part in self.parts(person_ids):
            refused |= self.remove_where(m.HouseholdMember, m.HouseholdMember.person_id.in_(part))
        return refused

    # county mode: a township's new package no longer has these records
    def delete_villages(self, ids: Sequence[int]) -> None:
        for part in self.parts(ids):
            self.change_where(m.PartyBranch, m.PartyBranch.village_id.in_(part), {"village_id": None})
            self.remove(m.Village, part)

    def delete_branches(self, ids: Sequence[int]) -> None:
        for part in self.parts(ids):
            self.change_where(m.PartyMember, m.PartyMember.branch_id.in_(part), {"branch_id": None})
            self.change_where(m.PartyMember, m.PartyMember.group_id.in_(part), {"group_id": None})
            self.change_where(m.PartyBranch, m.PartyBranch.parent_id.in_(part), {"parent_id": None})
            self.remove(m.PartyBranch, part)

    def delete_households(self, ids: Sequence[int]) -> None:
        self.remove(m.Household, ids)

    def delete_people(self, ids: Sequence[int]) -> None:
        for part in self.parts(ids):
            self.remove_where(m.PartyMember, m.PartyMember.person_id.in_(part))
            self.remove_where(m.HouseholdMember, m.HouseholdMember.person_id.in_(part))
            self.remove(m.Person, part)

    def delete_party_members(self, ids: Sequence[int]) -> None:
        self.remove(m.PartyMember, ids)

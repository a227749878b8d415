"""Registry demo data for one township: villages, 村民小组, households, people, branches, party members.

Families are composed, not drawn person by person, so the relations hold the
way a clerk would expect: one 户主 per household, spouses of the other sex
and similar age, children 20–40 years younger than both parents,
grandchildren younger again. Party members are drawn from the adults with an
age and sex skew, then given posts, 预备/流动/失联/免考 status and dates.

Rows are written with Core bulk inserts (no audit entries, on purpose: demo
data is nobody's change) and carry exactly the values ``RegistryService``
would store: normalised ID, reversed ID, pinyin initials, sex and birth date
from the ID.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from townapp.core.dates import age_on
from townapp.core.idcard import make_id_number
from townapp.core.pinyin import initials
from townapp.registry import models as m

if TYPE_CHECKING:
    from townapp.demokit import TownshipJob

_CN_NUMBERS = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"]
_ORDINALS = ["第一", "第二", "第三", "第四", "第五", "第六", "第七", "第八", "第九", "第十"]
_OLDEST_BIRTH = dt.date(1926, 1, 1).toordinal()
_MIN_GAP = 20 * 366  # ≥ 20 calendar years between a parent and a child, whatever the leap days
_MAX_GAP = 40 * 365  # < 40 calendar years
_YEAR = 365.2425
_CHILD_RELATION = {"男": "子", "女": "女"}
_GRANDCHILD_RELATION = {"男": "孙子", "女": "孙女"}


class _Weighted:
    """Values with weights, drawn by bisecting cumulative weights (fast enough for 500k draws)."""

    def __init__(self, pairs: Sequence[tuple[Any, float]]) -> None:
        self.values = [v for v, _ in pairs]
        self.cumulative = list(itertools.accumulate(w for _, w in pairs))
        self.total = self.cumulative[-1]

    def draw(self, rng: random.Random) -> Any:
        return self.values[bisect.bisect_right(self.cumulative, rng.random() * self.total)]


@dataclass(frozen=True)
class _Material:
    """resources/demo/*.json turned into ready-to-draw tables."""

    surnames: _Weighted
    surname_shares: dict[str, float]
    given: dict[tuple[str, str], str]
    two_char: dict[str, float]
    old_before: int
    new_from: int
    directions: list[str]
    surname_endings: _Weighted
    village_words: list[str]
    home_before_2000: str
    home_from_2000: str
    other_region_share: float
    other_regions: list[tuple[str, int, int]]
    destinations: _Weighted
    household_sizes: _Weighted
    ethnicity: _Weighted
    education: list[tuple[int, _Weighted]]
    education_students: _Weighted
    phone_prefixes: list[str]
    party: dict[str, Any]
    duty_posts: list[str]


@lru_cache(maxsize=1)
def material() -> _Material:
    from townapp.demokit import demo_resource

    names = demo_resource("names.json")
    places = demo_resource("places.json")
    population = demo_resource("population.json")
    factor = names["regional_factor"]
    shares = {s: share * factor.get(s, 1.0) for s, share in names["surnames"]}
    regions = places["id_regions"]
    village = places["village_names"]
    return _Material(
        surnames=_Weighted(list(shares.items())),
        surname_shares=shares,
        given={(sex, era): chars for sex, eras in names["given_chars"].items() for era, chars in eras.items()},
        two_char=names["two_char_share"],
        old_before=names["era_bounds"]["old_before"],
        new_from=names["era_bounds"]["new_from"],
        directions=village["directions"],
        surname_endings=_Weighted([tuple(x) for x in village["surname_endings"]]),
        village_words=village["words"],
        home_before_2000=regions["home_before_2000"],
        home_from_2000=regions["home_from_2000"],
        other_region_share=regions["other_share"],
        other_regions=[(r["code"], r["from"], r["to"]) for r in regions["other"]],
        destinations=_Weighted([tuple(x) for x in places["destinations"]]),
        household_sizes=_Weighted([(int(k), v) for k, v in population["household_sizes"].items()]),
        ethnicity=_Weighted(list(population["ethnicity"].items())),
        education=[(c["from"], _Weighted(list(c["share"].items()))) for c in population["education"]],
        education_students=_Weighted(list(population["education_students"].items())),
        phone_prefixes=population["phone_prefixes"],
        party=population["party"],
        duty_posts=population["duty_posts"],
    )


@dataclass
class _Member:
    """One person of a family being composed (dates as ordinals)."""

    relation: str
    sex: str
    birth: int
    surname: str
    blood: bool  # related to the 户主 by blood: shares the household's ethnicity


@dataclass
class _Adult:
    """What party-member selection needs to know about a person already written."""

    person_id: int
    birth: dt.date
    sex: str
    group: int
    age: int


@dataclass
class VillageFacts:
    """What later demo steps (archives, grids, points) may want without querying."""

    id: int
    code: str
    name: str
    kind: str
    group_ids: list[int]
    household_ids: list[int]
    party_member_ids: list[int] = field(default_factory=list)
    cadres: list[tuple[int, str]] = field(default_factory=list)  # (person id, 党内职务)


@dataclass
class RegistryFacts:
    township_branch_id: int
    villages: list[VillageFacts]


def build_township(job: TownshipJob) -> dict[str, int]:
    """The registry step of the demo: everything of one township, inserted village by village."""
    builder = _TownshipBuilder(job)
    return builder.run()


class _TownshipBuilder:
    def __init__(self, job: TownshipJob) -> None:
        self.job = job
        self.rng = job.rng
        self.mat = material()
        self.today = job.as_of.toordinal()
        self.counts = dict.fromkeys(
            ("village", "village_group", "household", "person", "household_member", "party_branch", "party_member"), 0)

    # ----- the township ------------------------------------------------------
    def run(self) -> dict[str, int]:
        job = self.job
        township = job.township
        branch_id = job.keys.take(m.PartyBranch.__table__)
        self._insert(m.PartyBranch, [{"id": branch_id, **job.synced(), "name": f"{township.name}党委", "kind": "党委",
                                      "parent_id": None, "village_id": None}])
        facts = RegistryFacts(branch_id, [])
        sizes = self._village_sizes()
        for index, households in enumerate(sizes):
            kind = "社区" if index == 0 else "村"
            name = self._village_name(kind)
            job.report(index / len(sizes), f"正在生成 {township.name} {name} 的住户…")
            code = f"{township.code}{index + 1:03d}" if kind == "社区" else f"{township.code}{200 + index:03d}"
            facts.villages.append(self._village(code, name, kind, households, branch_id))
        job.report(1.0, f"{township.name} 的住户和党员已生成")
        job.facts["registry"] = facts
        return self.counts

    def _village_sizes(self) -> list[int]:
        """Households per village: lognormal spread, summing to the township's target."""
        plan = self.job.township
        weights = [self.rng.lognormvariate(0.0, 0.45) for _ in range(plan.villages)]
        weights[0] *= 1.3  # the seat's 社区 is a little bigger
        total = sum(weights)
        sizes = [max(40, round(plan.households * w / total)) for w in weights]
        sizes[-1] = max(40, sizes[-1] + plan.households - sum(sizes))
        return sizes

    def _village_name(self, kind: str) -> str:
        township = self.job.township.name
        if kind == "社区":
            name = township.rstrip("镇乡") + "社区"
            if self.job.build.claim("village_name", f"{township}/{name}"):
                return name
        for attempt in itertools.count():
            name = self._invent_village_name()
            # unique in the whole build, if possible; within the township always
            if self.job.build.claim("village_name", name if attempt < 50 else f"{township}/{name}"):
                return name
        raise AssertionError("unreachable")

    def _invent_village_name(self) -> str:
        rng, mat = self.rng, self.mat
        roll = rng.random()
        if roll < 0.45:
            return rng.choice(mat.directions) + mat.surnames.draw(rng) + "村"
        if roll < 0.75:
            ending = mat.surname_endings.draw(rng)
            return mat.surnames.draw(rng) + (ending or "庄") + "村"
        word = rng.choice(mat.village_words)
        return word + "村" if rng.random() < 0.8 else rng.choice(mat.directions) + word + "村"

    # ----- one village ---------------------------------------------------------
    def _village(self, code: str, name: str, kind: str, households: int, township_branch: int) -> VillageFacts:
        job, rng = self.job, self.rng
        village_id = job.keys.take(m.Village.__table__)
        self._insert(m.Village, [{"id": village_id, **job.synced(), "township_id": job.township.id, "code": code,
                                  "name": name, "kind": kind, "name_initials": initials(name)}])
        group_count = min(10, max(4, round(households / rng.uniform(50, 90))))
        first_group = job.keys.take(m.VillageGroup.__table__, group_count)
        group_names = [f"{_CN_NUMBERS[i]}组" for i in range(group_count)]
        self._insert(m.VillageGroup, [{"id": first_group + i, **job.synced(), "village_id": village_id,
                                       "name": group_names[i]} for i in range(group_count)])
        surnames = self._village_surnames(name)
        household_rows: list[dict[str, Any]] = []
        person_rows: list[dict[str, Any]] = []
        link_rows: list[dict[str, Any]] = []
        adults: list[_Adult] = []
        # households spread over the groups in order, so 户编号 runs group by group
        per_group = [households // group_count + (1 if i < households % group_count else 0)
                     for i in range(group_count)]
        first_household = job.keys.take(m.Household.__table__, households)
        number = 0
        for group_index, count in enumerate(per_group):
            house_no = 0
            for _ in range(count):
                number += 1
                house_no += 1 if rng.random() < 0.8 else rng.randint(2, 4)
                household_id = first_household + number - 1
                members = self._family(surnames)
                ethnicity = self.mat.ethnicity.draw(rng)
                phones = []
                for position, member in enumerate(members):
                    person = self._person(member, village_id, ethnicity)
                    person_rows.append(person)
                    link_rows.append({"id": None, "household_id": household_id, "person_id": person["id"],
                                      "relation": member.relation, "position": position})
                    if person["phone"]:
                        phones.append(person["phone"])
                    birth = person["birth_date"]
                    age = age_on(birth, job.as_of)
                    if age >= 20:  # old enough to have joined at 18 and been confirmed a year later
                        adults.append(_Adult(person["id"], birth, member.sex, group_index, age))
                household_rows.append({
                    "id": household_id, **job.synced(), "village_id": village_id,
                    "group_id": first_group + group_index, "number": f"{number:04d}",
                    "address": f"{name}{group_names[group_index]} {house_no}号",
                    "phone": phones[0] if phones else None, "note": None,
                })
        first_link = job.keys.take(m.HouseholdMember.__table__, len(link_rows))
        for offset, row in enumerate(link_rows):
            row["id"] = first_link + offset
        self._insert(m.Household, household_rows)
        self._insert(m.Person, person_rows)
        self._insert(m.HouseholdMember, link_rows)
        facts = VillageFacts(village_id, code, name, kind, [first_group + i for i in range(group_count)],
                             [row["id"] for row in household_rows])
        self._party(facts, len(person_rows), adults, group_count, township_branch)
        return facts

    def _village_surnames(self, village_name: str) -> _Weighted:
        """Villages have their big families: 2–4 surnames take about half the households."""
        rng, mat = self.rng, self.mat
        big = [s for s in mat.surname_shares if s in village_name[:3]][:1]  # 东张村: the 张 family
        wanted = rng.randint(2, 4)
        while len(big) < wanted:
            surname = mat.surnames.draw(rng)
            if surname not in big:
                big.append(surname)
        local = [(s, 45.0 / len(big) * (1.6 if i == 0 else 1.0)) for i, s in enumerate(big)]
        return _Weighted(local + [(s, w * 55.0 / mat.surnames.total) for s, w in mat.surname_shares.items()])

    # ----- families ----------------------------------------------------------
    def _family(self, surnames: _Weighted) -> list[_Member]:
        """A household's members, head first, by a family type that fits its size."""
        rng = self.rng
        size = self.mat.household_sizes.draw(rng)
        roll = rng.random()
        if size == 1:
            return self._single(surnames)
        if size == 2:
            if roll < 0.55:
                return self._couple(surnames, age=(56, 88), children=0)
            if roll < 0.70:
                return self._couple(surnames, age=(23, 38), children=0)
            if roll < 0.85:
                return self._lone_parent(surnames)
            return self._with_parents(surnames, age=(25, 58), spouse=False, children=0, parents=1)
        if size >= 4 and roll < 0.40:
            return self._three_generations(surnames, size)
        if roll < 0.58:
            parents = 2 if size >= 5 and rng.random() < 0.3 else 1
            children = size - 2 - parents
            return self._with_parents(surnames, age=(26 + 2 * children, 60), spouse=True, children=children,
                                      parents=parents)
        children = size - 2
        return self._couple(surnames, age=(24 + 3 * children, 62 if children < 3 else 70), children=children)

    def _born(self, age: tuple[int, int]) -> int:
        return self.today - self.rng.randint(int(age[0] * _YEAR) + 1, int((age[1] + 1) * _YEAR) - 1)

    def _head(self, surnames: _Weighted, age: tuple[int, int], female_share: float) -> _Member:
        sex = "女" if self.rng.random() < female_share else "男"
        return _Member("户主", sex, self._born(age), surnames.draw(self.rng), True)

    def _spouse(self, partner: _Member, relation: str = "配偶") -> _Member:
        """Other sex, similar age (the wife usually 0–5 years younger), adult at marriage age."""
        rng = self.rng
        shift = int(rng.triangular(-2, 6, 2) * _YEAR)
        if partner.sex == "男":
            birth = partner.birth + shift
            latest = self.today - int(21 * _YEAR)
        else:
            birth = partner.birth - shift
            latest = self.today - int(23 * _YEAR)
        # out of range: pull back by a random amount, never onto one shared date (IDs would pile up)
        if birth > latest:
            birth = latest - rng.randint(0, 3 * 365)
        if birth < _OLDEST_BIRTH:
            birth = _OLDEST_BIRTH + rng.randint(0, 2 * 365)
        sex = "女" if partner.sex == "男" else "男"
        return _Member(relation, sex, birth, self.mat.surnames.draw(rng), False)

    def _child_birth(self, parents: Sequence[_Member], latest: int | None = None) -> int | None:
        """A birth 20–40 years after every parent's, not after ``latest``; None if impossible."""
        low = max(p.birth for p in parents) + _MIN_GAP
        high = min(min(p.birth for p in parents) + _MAX_GAP, self.today if latest is None else latest)
        return self.rng.randint(low, high) if low <= high else None

    def _children(self, parents: Sequence[_Member], surname: str, count: int,
                  relations: dict[str, str] = _CHILD_RELATION, latest: int | None = None) -> list[_Member]:
        out = []
        for _ in range(count):
            birth = self._child_birth(parents, latest)
            if birth is None:
                break
            sex = "男" if self.rng.random() < 0.52 else "女"
            out.append(_Member(relations[sex], sex, birth, surname, True))
        out.sort(key=lambda c: c.birth)
        return out

    def _line_surname(self, head: _Member, spouse: _Member | None) -> str:
        """Children take the father's surname."""
        if head.sex == "男":
            return head.surname
        return spouse.surname if spouse is not None else self.mat.surnames.draw(self.rng)

    def _single(self, surnames: _Weighted) -> list[_Member]:
        old = self.rng.random() < 0.7
        head = self._head(surnames, (60, 92) if old else (24, 59), 0.55 if old else 0.3)
        return [head]

    def _couple(self, surnames: _Weighted, age: tuple[int, int], children: int) -> list[_Member]:
        head = self._head(surnames, age, 0.1)
        spouse = self._spouse(head)
        return [head, spouse, *self._children((head, spouse), self._line_surname(head, spouse), children)]

    def _lone_parent(self, surnames: _Weighted) -> list[_Member]:
        head = self._head(surnames, (45, 80), 0.4)
        return [head, *self._children((head,), self._line_surname(head, None), 1)]

    def _with_parents(self, surnames: _Weighted, age: tuple[int, int], spouse: bool, children: int,
                      parents: int) -> list[_Member]:
        """户主 with (spouse and children and) one or both of their own parents."""
        rng = self.rng
        head = self._head(surnames, (age[0], min(age[1], 62)), 0.08)
        members = [head]
        partner = self._spouse(head) if spouse else None
        if partner is not None:
            members.append(partner)
            members.extend(self._children((head, partner), self._line_surname(head, partner), children))
        low = max(_OLDEST_BIRTH, head.birth - _MAX_GAP)
        high = head.birth - _MIN_GAP
        if low <= high:
            father = _Member("父亲", "男", rng.randint(low, high), head.surname, True)
            if parents == 2:
                mother = self._spouse(father, "母亲")
                mother.birth = min(max(mother.birth, low), high)
                mother.blood = True
                members.extend((father, mother))
            elif rng.random() < 0.35:
                members.append(father)
            else:
                members.append(_Member("母亲", "女", rng.randint(low, high), self.mat.surnames.draw(rng), True))
        return members

    def _three_generations(self, surnames: _Weighted, size: int) -> list[_Member]:
        """An older 户主 (and spouse), a married son with his wife, and grandchildren."""
        rng = self.rng
        head = self._head(surnames, (50, 78), 0.12)
        members = [head]
        partner = self._spouse(head) if head.sex == "男" else None
        if partner is not None:
            members.append(partner)
        parents = (head, partner) if partner is not None else (head,)
        line = self._line_surname(head, partner)
        son_birth = self._child_birth(parents, latest=self.today - int(24 * _YEAR))
        if son_birth is None:
            return members + self._children(parents, line, size - len(members))
        son = _Member("子", "男", son_birth, line, True)
        wife = self._spouse(son, "儿媳")
        members.extend((son, wife))
        grandchildren = 0
        while len(members) < size:
            if grandchildren == 0 or rng.random() < 0.8:
                kids = self._children((son, wife), line, 1, _GRANDCHILD_RELATION)
                if kids:
                    grandchildren += 1
                    members.extend(kids)
                    continue
            kids = self._children(parents, line, 1)
            if not kids:
                break
            members.extend(kids)
        return members

    # ----- people ------------------------------------------------------------
    def _person(self, member: _Member, village_id: int, ethnicity: str) -> dict[str, Any]:
        """A person row with the columns RegistryService would fill (ID-derived sex and birth date)."""
        job, rng, mat = self.job, self.rng, self.mat
        birth = dt.date.fromordinal(member.birth)
        id_number = self._id_number(birth, member.sex)
        name = member.surname + self._given_name(member.sex, birth.year)
        age = age_on(birth, job.as_of)
        has_phone = 18 <= age and rng.random() < (0.92 if age < 65 else 0.7 if age < 76 else 0.35)
        return {
            "id": job.keys.take(m.Person.__table__), **job.synced(),
            "id_number": id_number, "id_number_rev": id_number[::-1], "name": name, "name_initials": initials(name),
            "sex": member.sex, "birth_date": birth,
            # blood relatives share the household's ethnicity; spouses and 儿媳 bring their own
            "ethnicity": ethnicity if member.blood else mat.ethnicity.draw(rng),
            "education": self._education(birth, age),
            "phone": rng.choice(mat.phone_prefixes) + f"{rng.randrange(10 ** 8):08d}" if has_phone else None,
            "village_id": village_id, "note": None,
        }

    def _id_number(self, birth: dt.date, sex: str) -> str:
        """A valid, unused ID: the local code of the birth era, a few from elsewhere in Shanxi."""
        rng, mat = self.rng, self.mat
        region = mat.home_before_2000 if birth.year < 2000 else mat.home_from_2000
        if rng.random() < mat.other_region_share:
            fitting = [code for code, start, end in mat.other_regions if start <= birth.year <= end]
            if fitting:
                region = rng.choice(fitting)
        stem = f"{region}{birth:%Y%m%d}"
        odd = 1 if sex == "男" else 0
        for _ in range(1000):
            sequence = rng.randrange(500) * 2 + odd
            if self.job.build.claim("id", f"{stem}{sequence:03d}"):
                return make_id_number(region, birth, sequence)
        raise AssertionError(f"no free ID sequence for {stem}")

    def _given_name(self, sex: str, year: int) -> str:
        rng, mat = self.rng, self.mat
        era = "old" if year < mat.old_before else "new" if year >= mat.new_from else "mid"
        chars = mat.given[(sex, era)]
        first = rng.choice(chars)
        if rng.random() >= mat.two_char[era]:
            return first
        if sex == "女" and era != "new" and rng.random() < 0.05:
            return first + first  # 叠字: 丽丽, 婷婷
        second = rng.choice(chars)
        while second == first:
            second = rng.choice(chars)
        return first + second

    def _education(self, birth: dt.date, age: int) -> str | None:
        rng, mat = self.rng, self.mat
        if age < 7:
            return None
        if age <= 12:
            return "小学及以下"
        if age <= 15:
            return "初中"
        if age <= 18:
            return "高中" if rng.random() < 0.6 else "中专"
        if age <= 22:
            return mat.education_students.draw(rng)
        table = mat.education[0][1]
        for start, weighted in mat.education:
            if birth.year >= start:
                table = weighted
        return table.draw(rng)

    # ----- party ----------------------------------------------------------------
    def _party(self, village: VillageFacts, people: int, adults: list[_Adult], group_count: int,
               township_branch: int) -> None:
        """Branches sized to the members, then members with posts, status and dates."""
        job, rng, spec = self.job, self.rng, self.mat.party
        target = round(people * spec["share_of_people"] * rng.uniform(0.8, 1.2))
        members = self._pick(adults, min(target, len(adults)), self._party_weight)
        members.sort(key=lambda a: a.person_id)
        if not members:
            return
        branch_rows, placement, units = self._branches(village, members, group_count, township_branch)
        self._insert(m.PartyBranch, branch_rows)
        posts = self._posts(units)
        available = [a for a in members if a.person_id not in posts]
        probationary = {a.person_id for a in self._pick(
            [a for a in available if a.age <= 45], self._share(len(members), spec["probationary_share"]),
            lambda a: 1.0)}
        movable = [a for a in available if a.person_id not in probationary]
        mobile = {a.person_id for a in self._pick(
            movable, self._share(len(members), spec["mobile_share"]), self._mobility_weight)}
        lost = {a.person_id for a in self._pick(
            [a for a in movable if a.person_id not in mobile and a.age < 65],
            self._share(len(members), spec["lost_share"]), self._mobility_weight)}
        rows = []
        first = job.keys.take(m.PartyMember.__table__, len(members))
        for offset, adult in enumerate(members):
            pid = adult.person_id
            post = posts.get(pid)
            row = {"id": first + offset, **job.synced(), "person_id": pid, "branch_id": placement[pid][0],
                   "group_id": placement[pid][1], "party_post": post, "status": "正常", "status_date": None,
                   "mobility": "在村", "mobility_since": None, "destination": None, "duty_post": None}
            if pid in probationary:
                row.update(member_type="预备党员", confirmed_on=None,
                           joined_on=self._date_between(max(adult.birth.toordinal() + 18 * 366, self.today - 360),
                                                        self.today - 10))
            else:
                joined = self._joined_on(adult)
                row.update(member_type="正式党员", joined_on=joined, confirmed_on=_one_year_after(joined))
            if pid in mobile or pid in lost:
                start = max(row["joined_on"].toordinal(), adult.birth.toordinal() + 18 * 366, self.today - 12 * 365)
                row.update(mobility="流动" if pid in mobile else "失联",
                           mobility_since=self._date_between(start, self.today - 30),
                           destination=self.mat.destinations.draw(rng) if pid in mobile else None,
                           points_category="流动")
            elif post is not None:
                row["points_category"] = "有职"
            elif adult.age >= spec["exempt_from_age"] and rng.random() < spec["exempt_share"]:
                row["points_category"] = "免考"
            else:
                row["points_category"] = "无职"
                if rng.random() < spec["duty_post_share"]:
                    row["duty_post"] = rng.choice(self.mat.duty_posts)
            rows.append(row)
        self._insert(m.PartyMember, rows)
        village.party_member_ids = [r["id"] for r in rows]
        village.cadres = sorted(posts.items())

    def _party_weight(self, adult: _Adult) -> float:
        spec = self.mat.party
        weight = 0.0
        for start, w in spec["age_weights"]:
            if adult.age >= start:
                weight = w
        return weight * (spec["female_weight"] if adult.sex == "女" else 1.0)

    @staticmethod
    def _mobility_weight(adult: _Adult) -> float:
        return 3.0 if adult.age < 40 else 2.0 if adult.age < 55 else 0.6 if adult.age < 65 else 0.1

    def _share(self, total: int, share: float) -> int:
        """``total × share`` rounded at random, so small villages still get their fair expected count."""
        exact = total * share
        return int(exact) + (1 if self.rng.random() < exact - int(exact) else 0)

    def _pick(self, pool: Sequence[_Adult], count: int, weight: Any) -> list[_Adult]:
        """``count`` of ``pool`` without replacement, chance by weight (Efraimidis–Spirakis keys)."""
        if count <= 0:
            return []
        rng = self.rng
        keyed = []
        for adult in pool:
            w = weight(adult)
            if w > 0:
                keyed.append((rng.random() ** (1.0 / w), adult.person_id, adult))
        keyed.sort(key=lambda k: (k[0], k[1]), reverse=True)
        return [k[2] for k in keyed[:count]]

    def _branches(self, village: VillageFacts, members: list[_Adult], group_count: int, township_branch: int,
                  ) -> tuple[list[dict[str, Any]], dict[int, tuple[int, int]], list[tuple[int, str, list[_Adult]]]]:
        """党支部 (or 党总支 with 2–3 党支部 for big villages) and 党小组 covering the 村民小组 in order.

        Returns the branch rows, each member's (党支部, 党小组), and the units whose posts are
        to be filled as (branch id, kind, the members it holds).
        """
        job, spec = self.job, self.mat.party
        table = m.PartyBranch.__table__
        rows: list[dict[str, Any]] = []

        def branch(name: str, kind: str, parent: int) -> int:
            branch_id = job.keys.take(table)
            rows.append({"id": branch_id, **job.synced(), "name": name, "kind": kind, "parent_id": parent,
                         "village_id": village.id})
            return branch_id

        count = len(members)
        sub_count = 3 if count >= spec["three_branches_from"] else 2 if count >= spec["general_branch_from"] else 1
        sub_count = min(sub_count, group_count)
        units: list[tuple[int, str, list[_Adult]]] = []
        if sub_count == 1:
            top, subs = None, [(f"{village.name}党支部", township_branch)]
        else:
            top = branch(f"{village.name}党总支", "党总支", township_branch)
            units.append((top, "党总支", members))
            subs = [(f"{village.name}{_ORDINALS[i]}党支部", top) for i in range(sub_count)]
        by_group: dict[int, list[_Adult]] = {}
        for adult in members:
            by_group.setdefault(adult.group, []).append(adult)
        placement: dict[int, tuple[int, int]] = {}
        # 村民小组 → 党支部 → 党小组 in contiguous runs, so a 党小组 is the members of a few neighbouring 组
        for (sub_name, parent), groups in zip(subs, _split(list(range(group_count)), sub_count), strict=True):
            sub_id = branch(sub_name, "党支部", parent)
            in_branch = [a for g in groups for a in by_group.get(g, [])]
            units.append((sub_id, "党支部" if top is None else "下设党支部", in_branch))
            party_groups = min(len(groups), max(2 if len(groups) > 1 else 1, round(len(in_branch) / 12)))
            for j, covered in enumerate(_split(groups, party_groups)):
                group_id = branch(f"{sub_name}{_ORDINALS[j]}党小组", "党小组", sub_id)
                in_group = [a for g in covered for a in by_group.get(g, [])]
                units.append((group_id, "党小组", in_group))
                for adult in in_group:
                    placement[adult.person_id] = (sub_id, group_id)
        return rows, placement, units

    def _posts(self, units: list[tuple[int, str, list[_Adult]]]) -> dict[int, str]:
        """党内职务: a committee for the village 党支部/党总支, a 书记 per 下设党支部, a 组长 per 党小组."""
        rng = self.rng
        taken: dict[int, str] = {}

        def secretary(a: _Adult) -> float:  # mostly men in their forties and fifties
            return (3.0 if 30 <= a.age <= 60 else 0.05) * (1.0 if a.sex == "男" else 0.3)

        def officer(a: _Adult) -> float:
            return 2.0 if 25 <= a.age <= 62 else 0.3 if a.age < 72 else 0.02

        def choose(pool: list[_Adult], post: str, weight: Any) -> None:
            picked = self._pick([a for a in pool if a.person_id not in taken], 1, weight)
            if picked:
                taken[picked[0].person_id] = post

        for _branch_id, kind, pool in units:
            if kind in ("党总支", "党支部"):
                choose(pool, f"{kind}书记", secretary)
                choose(pool, f"{kind}副书记", officer)
                for post in ("组织委员", "宣传委员", "纪检委员")[: rng.randint(1 if kind == "党支部" else 2, 3)]:
                    choose(pool, post, officer)
            elif kind == "下设党支部":
                choose(pool, "党支部书记", secretary)
                if rng.random() < 0.5:
                    choose(pool, "党支部委员", officer)
            else:
                choose(pool, "党小组长", officer)
        return taken

    # ----- dates ---------------------------------------------------------------
    def _joined_on(self, adult: _Adult) -> dt.date:
        """入党日期 of a 正式党员: at 18 or later, often at 20–35, at least a year ago; 七一 is popular."""
        rng = self.rng
        earliest = adult.birth.toordinal() + 18 * 366
        latest = self.today - 367
        join_age = 18 + min(rng.expovariate(1 / 9.0), 45)
        day = max(adult.birth.toordinal() + int(join_age * _YEAR), earliest)
        if day > latest:  # spread, not clamp: a clamp would pile members onto one date
            day = rng.randint(max(earliest, latest - 5 * 365), latest)
        joined = dt.date.fromordinal(day)
        if rng.random() < 0.25:
            july_first = dt.date(joined.year, 7, 1).toordinal()
            if earliest <= july_first <= latest:
                return dt.date.fromordinal(july_first)
        return joined

    def _date_between(self, low: int, high: int) -> dt.date:
        return dt.date.fromordinal(self.rng.randint(low, high) if low <= high else high)

    # ----- writing -----------------------------------------------------------
    def _insert(self, model: type, rows: list[dict[str, Any]]) -> None:
        if rows:
            self.job.conn.execute(model.__table__.insert(), rows)
            self.counts[model.__tablename__] += len(rows)


def _split(items: list[int], parts: int) -> list[list[int]]:
    """``items`` in ``parts`` contiguous runs of nearly equal length."""
    size, extra = divmod(len(items), parts)
    out, start = [], 0
    for i in range(parts):
        end = start + size + (1 if i < extra else 0)
        out.append(items[start:end])
        start = end
    return out


def _one_year_after(day: dt.date) -> dt.date:
    """转正 a year after 入党 (29 Feb → 28 Feb)."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)

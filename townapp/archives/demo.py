"""Archive demo data for one township: five years of figures that satisfy the rules, and the ledgers.

Per village: 村情概况 each year, 两委 from the registry's party posts (一肩挑
in most villages, as it is now the norm), 换届, sometimes a 第一书记, talents,
pay inputs (saved through ArchiveService once the bulk rows are committed), a 党群服务中心, collective economy growing and debts falling
(every figure built so the income identity and the debt roll-forward hold),
a few 软弱涣散 villages (认定 here; their 验收, like every star and creation
level, comes from 定级 in the evaluations demo, which writes it into the
archive through the services), 3–5 commitments a year and monthly meetings with realistic attendance
(流动 members ask leave for work, 失联 ones are absent).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select

from townapp.archives import models as a
from townapp.archives.dto import PayData
from townapp.archives.service import ArchiveService
from townapp.archives.vocab import clause_texts
from townapp.core.actor import DEMO_ACTOR
from townapp.core.resources import load_data
from townapp.registry import demo as registry_demo
from townapp.registry import models as m

if TYPE_CHECKING:
    from townapp.db import Database
    from townapp.demokit import TownshipJob

YEARS = 5
WAN = 1_000_000  # 分 in 1 万元


@lru_cache(maxsize=1)
def material() -> dict[str, Any]:
    return load_data("archives", "demo.json")


def build_township(job: TownshipJob) -> dict[str, int]:
    return _Builder(job).run()


class _Builder:
    def __init__(self, job: TownshipJob) -> None:
        self.job = job
        self.rng = job.rng
        self.mat = material()
        self.last_year = job.as_of.year - 1
        self.years = list(range(self.last_year - YEARS + 1, self.last_year + 1))
        self.rows: dict[type, list[dict[str, Any]]] = {}
        self.weak: set[int] = set()
        self.weak_years: dict[int, int] = {}  # village id → the year it was found 软弱涣散
        self.pay: dict[tuple[int, int], list[PayData]] = {}  # (village, year) → the pay inputs the clerk types

    def add(self, model: type, row: dict[str, Any], synced: bool = True) -> dict[str, Any]:
        if "id" not in row:
            row["id"] = self.job.keys.take(model.__table__)
        if synced:
            row.update(self.job.synced())
        self.rows.setdefault(model, []).append(row)
        return row

    def run(self) -> dict[str, int]:
        facts = self.job.facts["registry"]
        villages = facts.villages
        count = max(1, round(len(villages) * 0.12))
        self.weak = {v.id for v in self.rng.sample(villages, min(count, len(villages)))}
        for index, village in enumerate(villages):
            self.job.report(index / len(villages), f"正在生成 {village.name} 的一村一档…")
            self._village(village)
        counts = {}
        order = [a.ArchiveProfile, a.ArchiveYear, a.ArchiveCooperative, a.ArchiveTerm, a.ArchiveCadre,
                 a.ArchiveFirstSecretary, a.ArchiveTalent, a.ArchivePay, a.ArchiveCentre, a.ArchiveRectification,
                 a.ArchiveCommitment, a.ArchiveMeeting, a.ArchiveAttendance]
        for model in order:
            rows = self.rows.get(model, [])
            keys = {key for row in rows for key in row}
            rows = [{key: row.get(key) for key in keys} for row in rows]  # one statement needs uniform rows
            for start in range(0, len(rows), 5000):
                self.job.conn.execute(insert(model), rows[start:start + 5000])
            counts[model.__tablename__] = len(rows)
        counts[a.ArchivePay.__tablename__] = sum(len(items) for items in self.pay.values())
        self.job.facts["archives"] = {"weak_years": dict(self.weak_years), "years": list(self.years)}
        self.job.then(lambda db, pay=dict(self.pay): _save_pay(db, pay))
        self.job.report(1.0, f"{self.job.township.name} 的一村一档已生成")
        return counts

    # ----- one village ------------------------------------------------------
    def _village(self, v: Any) -> None:
        conn = self.job.conn
        members = conn.execute(
            select(m.PartyMember.id, m.Person.id, m.Person.name, m.Person.birth_date, m.Person.sex,
                   m.Person.education, m.PartyMember.mobility, m.PartyMember.party_post)
            .join(m.Person, m.Person.id == m.PartyMember.person_id)
            .where(m.Person.village_id == v.id, m.PartyMember.status == "正常").order_by(m.PartyMember.id)).all()
        people = conn.execute(select(m.Person.id, m.Person.name, m.Person.birth_date, m.Person.education)
                              .where(m.Person.village_id == v.id).order_by(m.Person.id)).all()
        branch = conn.execute(select(m.PartyBranch.name, m.PartyBranch.kind)
                              .where(m.PartyBranch.village_id == v.id, m.PartyBranch.kind != "党小组")
                              .order_by(m.PartyBranch.id)).first()
        cadre_ids = self._cadres(v, members)
        self._profile(v, people, branch)
        self._years(v, cadre_ids)
        self._talents(v, members, people, cadre_ids)
        self._centre(v)
        self._commitments(v)
        self._meetings(v, members, cadre_ids)

    def _cadres(self, v: Any, members: list[Any]) -> list[tuple[int, str]]:
        """两委 from the registry's 党内职务; returns (person id, post) of the current posts."""
        rng = self.rng
        by_post: dict[str, list[int]] = {}
        for _pm, pid, _n, _b, _s, _e, _mob, post in members:
            if post:
                by_post.setdefault(post, []).append(pid)
        secretary = (by_post.get("党总支书记") or by_post.get("党支部书记") or [None])[0]
        deputy = (by_post.get("党总支副书记") or by_post.get("党支部副书记") or [None])[0]
        committee = [p for k in ("组织委员", "宣传委员", "纪检委员") for p in by_post.get(k, [])]
        taken = {secretary, deputy, *committee}
        others = [pid for _pm, pid, *_rest in members if pid not in taken]
        if secretary is None:
            return []
        start = dt.date(2021, 3, 1)
        one_shoulder = rng.random() < 0.8 or deputy is None
        posts = [(secretary, "书记", one_shoulder)]
        if one_shoulder:
            posts.append((secretary, "主任", True))
        else:
            posts.append((deputy, "主任", False))
        if deputy is not None and one_shoulder:
            posts.append((deputy, "副书记", False))
        posts += [(pid, "委员", False) for pid in committee]
        if others:
            posts.append((others[rng.randrange(len(others))], "监委会主任", False))
        current = []
        for pid, post, flag in posts:
            self.add(a.ArchiveCadre, dict(village_id=v.id, person_id=pid, post=post, one_shoulder=flag and post == "书记",
                                          started_on=start, ended_on=None, term_no=11))
            current.append((pid, post))
        if others and rng.random() < 0.5:  # the previous secretary, replaced at the 2021 换届
            self.add(a.ArchiveCadre, dict(village_id=v.id, person_id=others[0], post="书记", one_shoulder=False,
                                          started_on=dt.date(2018, 1, 15), ended_on=dt.date(2021, 2, 28), term_no=10))
        self.add(a.ArchiveTerm, dict(village_id=v.id, term_no=10, starts_on=dt.date(2018, 1, 15),
                                     ends_on=dt.date(2021, 2, 28), completed=True, note=None))
        self.add(a.ArchiveTerm, dict(village_id=v.id, term_no=11, starts_on=dt.date(2021, 3, 1),
                                     ends_on=dt.date(2026, 2, 28), completed=True, note="2021年换届，任期五年"))
        if v.id in self.weak or rng.random() < 0.3:
            self.add(a.ArchiveFirstSecretary, dict(village_id=v.id, name=self._name(), unit=rng.choice(self.mat["units"]),
                                                   started_on=dt.date(2021, 9, 1), ended_on=dt.date(2024, 8, 31),
                                                   phone=None))
            self.add(a.ArchiveFirstSecretary, dict(village_id=v.id, name=self._name(), unit=rng.choice(self.mat["units"]),
                                                   started_on=dt.date(2024, 9, 1), ended_on=None, phone=None))
        return current

    def _name(self) -> str:
        mat = registry_demo.material()
        surname = mat.surnames.draw(self.rng)
        chars = mat.given[(self.rng.choice(("男", "女")), "mid")]
        return surname + "".join(self.rng.choice(chars) for _ in range(self.rng.choice((1, 2))))

    def _profile(self, v: Any, people: list[Any], branch: Any) -> None:
        rng = self.rng
        households = len(v.household_ids)
        population = len(people)
        natural = rng.randint(1, 4)
        farmland = rng.randint(1500, 6500)
        for offset, year in enumerate(self.years):
            shrink = 1 - 0.01 * (len(self.years) - 1 - offset)
            self.add(a.ArchiveProfile, dict(
                village_id=v.id, year=year, group_count=len(v.group_ids), natural_villages=natural,
                registered_households=round(households * shrink), registered_population=round(population * shrink),
                resident_households=round(households * shrink * 0.82), resident_population=round(population * shrink * 0.74),
                farmland_mu=farmland, party_org_name=branch[0] if branch else None,
                party_org_kind=branch[1] if branch and branch[1] in ("党委", "党总支", "党支部") else None))

    def _years(self, v: Any, cadres: list[tuple[int, str]]) -> None:
        rng = self.rng
        business = rng.randint(6, 45) * WAN // 1 + rng.randint(0, 99) * 10000
        debt = rng.choice((0, rng.randint(10, 90) * WAN))
        designated = rng.random() < 0.2
        weak_year = self.years[rng.randrange(0, 3)] if v.id in self.weak else None
        if weak_year is not None:
            self.weak_years[v.id] = weak_year
        for year in self.years:
            business = business * rng.randint(103, 118) // 100 // 100 * 100
            operating = business * rng.randint(45, 70) // 100 // 100 * 100
            contract = business * rng.randint(15, 35) // 100 // 100 * 100
            contract = min(contract, business - operating)
            other = min(rng.randint(0, 30) * 100000, business - operating - contract)
            investment = business - operating - contract - other
            subsidy = rng.randint(5, 20) * WAN // 10 * 10 + rng.randint(0, 9) * 100000
            total = operating + contract + investment + subsidy + other
            expense = total * rng.randint(55, 85) // 100
            resolved = min(debt, debt * rng.randint(15, 40) // 100 // 10000 * 10000)
            new = rng.choice((0, 0, 0, rng.randint(1, 5) * 100000)) if debt else 0
            closing = debt + new - resolved
            standard = rng.choice((6, 8, 10)) * WAN
            self.add(a.ArchiveYear, dict(
                village_id=v.id, year=year, operating_income=operating, contract_income=contract,
                investment_income=investment, subsidy_income=subsidy, other_income=other, total_income=total,
                business_income=business, total_expense=expense, net_income=total - expense,
                total_assets=rng.randint(200, 1500) * WAN, income_target=(business * 11 // 10) // WAN * WAN or WAN,
                debt_opening=debt, debt_new=new, debt_resolved=resolved, debt_closing=closing,
                debt_causes=rng.choice(self.mat["debt_causes"]) if debt else None,
                debt_plan=rng.choice(self.mat["debt_plans"]) if closing else None,
                funding_standard=standard, funding_received=standard if rng.random() < 0.85 else standard * 9 // 10,
                creation_level=None, org_star=None, secretary_star=None,  # 定级 writes them (evaluations demo)
                designated=designated))
            debt = closing
            for pid, post in cadres:
                if post == "主任" and any(p == pid and q == "书记" for p, q in cadres):
                    continue  # 一肩挑: paid once, as 书记
                grade = rng.choice(("优秀", "称职", "称职", "称职", "基本称职"))
                if post == "书记" and year == self.years[-1]:
                    grade = None  # last year's 书记 grade is the annual star's 考核等级, from 定级
                self.pay.setdefault((v.id, year), []).append(PayData(pid, post, 12, grade))
            if year == self.years[-1] or rng.random() < 0.6:
                self.add(a.ArchiveCooperative, dict(village_id=v.id, year=year,
                                                    name=f"{v.name}{self.mat['cooperatives'][v.id % 5]}",
                                                    members=40 + (v.id * 7) % 90 + (year - self.years[0]) * 5,
                                                    income_to_collective=operating // 5 // 100 * 100))
        if weak_year is not None:
            codes = sorted(clause_texts())
            self.add(a.ArchiveRectification, dict(
                village_id=v.id, year=weak_year, clauses="、".join(sorted(rng.sample(codes, 2), key=int)),
                measures="；".join(rng.sample(self.mat["measures"], 3)), leader=rng.choice(self.mat["leaders"]),
                accepted_on=None, score=None, result=None,  # the 验收 round's 定级 fills them
                review_on=dt.date(weak_year + 1, 9, rng.randint(1, 28)), review_note="整顿成果巩固，未出现反弹"))

    def _talents(self, v: Any, members: list[Any], people: list[Any], cadres: list[tuple[int, str]]) -> None:
        rng, as_of = self.rng, self.job.as_of
        in_post = {pid for pid, _ in cadres}
        young = [x for x in members if x[1] not in in_post and 25 <= (as_of - x[3]).days // 365 <= 40]
        for _pm, pid, name, birth, _sex, education, _mob, _post in rng.sample(young, min(len(young), rng.randint(2, 3))):
            self.add(a.ArchiveTalent, dict(village_id=v.id, kind="后备干部", person_id=pid, name=name, birth_date=birth,
                                           education=education, measures=rng.choice(self.mat["measures_reserve"]),
                                           returned=False))
        graduates = [p for p in people if p[3] in ("大专", "本科") and 22 <= (as_of - p[2]).days // 365 <= 30]
        if graduates and rng.random() < 0.5:
            pid, name, birth, education = graduates[rng.randrange(len(graduates))]
            self.add(a.ArchiveTalent, dict(village_id=v.id, kind="振兴专员", person_id=pid, name=name, birth_date=birth,
                                           education=education, arrived_on=dt.date(rng.choice((2023, 2024, 2025)), 8, 1),
                                           returned=False))
        adults = [p for p in people if 28 <= (as_of - p[2]).days // 365 <= 55 and p[0] not in in_post]
        destinations = registry_demo.material().destinations
        for pid, name, birth, education in rng.sample(adults, min(len(adults), rng.randint(3, 5))):
            intent = rng.choice(("有", "无", "待定"))
            self.add(a.ArchiveTalent, dict(village_id=v.id, kind="在外人才", person_id=pid, name=name, birth_date=birth,
                                           education=education, workplace=destinations.draw(rng),
                                           industry=rng.choice(self.mat["industries"]), contact="村党组织书记",
                                           return_intent=intent, returned=intent == "有" and rng.random() < 0.2))

    def _centre(self, v: Any) -> None:
        rng = self.rng
        self.add(a.ArchiveCentre, dict(village_id=v.id, address=f"{v.name}村委会院内" if v.kind == "村" else f"{v.name}居委会",
                                       area_m2=rng.randint(200, 650), built_year=rng.randint(2010, 2022),
                                       rooms="、".join(rng.sample(self.mat["rooms"], rng.randint(5, 8)))))

    def _commitments(self, v: Any) -> None:
        rng = self.rng
        for year in [*self.years, self.job.as_of.year]:
            for template in rng.sample(self.mat["commitments"], rng.randint(3, 5)):
                title = template.format(n=rng.choice((2, 3, 5, 8, 10, 20, 50, 300, 500, 800)))
                deadline = dt.date(year, rng.choice((6, 9, 10, 12)), 30)
                if year < self.job.as_of.year:
                    done = rng.random() < 0.9
                    status, completed = ("已完成", deadline - dt.timedelta(days=rng.randint(5, 60))) if done else ("未完成", None)
                else:
                    status, completed = rng.choice((("未开始", None), ("推进中", None), ("推进中", None)))
                self.add(a.ArchiveCommitment, dict(village_id=v.id, year=year, title=title,
                                                   owner=self._name(), deadline=deadline, status=status,
                                                   completed_on=completed))

    def _meetings(self, v: Any, members: list[Any], cadres: list[tuple[int, str]]) -> None:
        """Monthly 主题党日 and 支委会, quarterly 党课 and 党员大会, a yearly 组织生活会."""
        topics = self.mat["topics"]
        if not members:
            return
        host = next((name for _pm, pid, name, *_r in members if cadres and pid == cadres[0][0]), None)
        committee = {pid for pid, _ in cadres}
        member_of = {pid: pm for pm, pid, *_r in members}
        first = dt.date(self.years[0], 1, 1)
        month = first
        while month <= self.job.as_of:
            plan = [("主题党日", 5), ("支委会", 2)]
            if month.month in (3, 6, 9, 12):
                plan += [("党课", 15), ("支部党员大会", 20)]
            if month.month == 1:
                plan.append(("组织生活会", 25))
            for kind, day in plan:
                held = month.replace(day=day)
                if held > self.job.as_of:
                    continue
                meeting = self.add(a.ArchiveMeeting, dict(village_id=v.id, held_on=held, kind=kind,
                                                          topic=topics[kind][(month.month + held.year) % len(topics[kind])],
                                                          host=host))
                invited = [x for x in members if x[1] in committee] if kind == "支委会" else members
                for pm, pid, _name, birth, _sex, _edu, mobility, _post in invited:
                    if pid not in member_of:
                        continue
                    status, reason = self._attendance(mobility, held, birth)
                    self.add(a.ArchiveAttendance, dict(meeting_id=meeting["id"], party_member_id=pm, status=status,
                                                       reason=reason), synced=False)
            month = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)

    def _attendance(self, mobility: str, held: dt.date, birth: dt.date) -> tuple[str, str | None]:
        rng, reasons = self.rng, self.mat["leave_reasons"]
        if mobility == "失联":
            return "缺席", None
        if mobility == "流动":
            return ("请假", "外出务工") if rng.random() < 0.8 else ("出席", None)
        roll = rng.random()
        if (held - birth).days // 365 >= 80 and roll < 0.4:
            return "请假", "年老体弱"
        if roll < 0.06:
            return "请假", rng.choice(reasons[:4])
        if roll < 0.08:
            return "缺席", None
        return "出席", None


def _save_pay(db: Database, pay: dict[tuple[int, int], list[PayData]]) -> None:
    """The 报酬 inputs as the township's clerk types them into each village's archive, year by year."""
    service = ArchiveService(db, DEMO_ACTOR)
    for (village_id, year), items in sorted(pay.items()):
        service.save_pay_inputs(village_id, year, items)

"""A hand-made township for the return and certificate tests: two villages whose every figure is known.

Each row below says why it counts (or not) in the 2026 second quarter (end 2026-06-30).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from townapp.archives import models as a
from townapp.core.idcard import make_id_number
from townapp.db import Database
from townapp.evaluations import models as e
from townapp.evaluations.service import EvaluationService
from townapp.grids import models as g
from townapp.registry import models as m

D = dt.date
PERIOD_END = D(2026, 6, 30)
JOINED = D(2010, 7, 1)


@dataclass
class Town:
    village_a: int
    village_b: int
    household_round: int
    households: dict[str, int]


def build_town(db: Database) -> Town:
    service = EvaluationService(db)
    service.sync_schemes()
    stages = {info.id: service.scheme(info.id).stages[-1].key for info in service.schemes()}
    with db.unit_of_work() as s:
        township = s.scalar(select(m.Township))
        va = m.Village(township_id=township.id, code="140821100201", name="甲村")
        vb = m.Village(township_id=township.id, code="140821100202", name="乙村")
        s.add_all([va, vb])
        s.flush()
        serial = [100]

        def member(village: m.Village, name: str, sex: str, birth: dt.date, *, ethnicity: str = "汉族",
                   education: str = "初中", member_type: str = "正式党员", joined: dt.date | None = JOINED,
                   confirmed: dt.date | None = None, status: str = "正常", status_date: dt.date | None = None,
                   mobility: str = "在村", since: dt.date | None = None) -> m.Person:
            serial[0] += 2
            number = make_id_number("140821", birth, serial[0] + (1 if sex == "男" else 0))
            person = m.Person(id_number=number, id_number_rev=number[::-1], name=name, name_initials="x", sex=sex,
                              birth_date=birth, ethnicity=ethnicity, education=education, village_id=village.id)
            s.add(person)
            s.flush()
            s.add(m.PartyMember(person_id=person.id, member_type=member_type, joined_on=joined, confirmed_on=confirmed,
                                status=status, status_date=status_date, mobility=mobility, mobility_since=since))
            return person

        # 甲村: three members count; one died in January, one joins only in August
        p1 = member(va, "李秀英", "女", D(1995, 5, 1), education="本科")  # young, college
        p2 = member(va, "马福", "男", D(1960, 1, 1), ethnicity="回族", mobility="流动", since=D(2025, 3, 1))  # old
        member(va, "张建国", "男", D(1980, 3, 1), education="大专", member_type="预备党员",
               joined=D(2026, 4, 15))  # middle, college, developed this quarter
        member(va, "赵老", "男", D(1970, 1, 1), status="去世", status_date=D(2026, 1, 10))
        member(va, "钱新", "男", D(1990, 1, 1), member_type="预备党员", joined=D(2026, 8, 1))
        # 乙村: two members; 孙强 became 正式 only in September, so 预备 at the quarter's end
        p6 = member(vb, "那兰", "女", D(1950, 2, 2), ethnicity="满族", education="研究生", mobility="失联",
                    since=D(2024, 1, 1))
        member(vb, "孙强", "男", D(1985, 6, 6), joined=D(2025, 8, 1), confirmed=D(2026, 9, 1))

        houses = {}
        for village, numbers in ((va, ("A1", "A2", "A3")), (vb, ("B1", "B2"))):
            for number in numbers:
                house = m.Household(village_id=village.id, number=number)
                s.add(house)
                s.flush()
                houses[number] = house.id

        # grids: 甲村 网格 → 辅助网格 → 微网格 (A1, A2 in it; A3 not); 乙村's 网格 was retired in March
        def grid(village: m.Village, level: str, code: str, parent: g.Grid | None = None, **kw: object) -> g.Grid:
            row = g.Grid(township_id=township.id, village_id=village.id, parent_id=parent.id if parent else None,
                         level=level, code=code, name=code, **kw)
            s.add(row)
            s.flush()
            return row

        ga = grid(va, "网格", "G-A")
        aux = grid(va, "辅助网格", "G-A-1", ga)
        micro_a = grid(va, "微网格", "G-A-1-1", aux)
        gb = grid(vb, "网格", "G-B", active=False, retired_on=D(2026, 3, 1))
        micro_b = grid(vb, "微网格", "G-B-1", gb)
        for number, micro, start, end in (("A1", micro_a, D(2025, 1, 1), None), ("A2", micro_a, D(2025, 1, 1), None),
                                          ("B1", micro_b, D(2025, 1, 1), D(2026, 5, 1)),
                                          ("B2", micro_b, D(2025, 1, 1), None)):
            s.add(g.GridAssignment(household_id=houses[number], grid_id=micro.id, started_on=start, ended_on=end))
        head = g.GridMember(grid_id=ga.id, person_id=p1.id, role="网格长", started_on=D(2020, 1, 1))
        late = g.GridMember(grid_id=micro_a.id, person_id=p2.id, role="微网格员", started_on=D(2026, 7, 10))
        gone = g.GridMember(grid_id=gb.id, person_id=p6.id, role="网格员", started_on=D(2020, 1, 1),
                            ended_on=D(2026, 6, 1))
        s.add_all([head, late, gone])
        s.flush()
        may = g.GridMonth(township_id=township.id, year=2026, month=5, status="已审批", locked=True)
        april = g.GridMonth(township_id=township.id, year=2026, month=4, status="草稿", locked=False)
        s.add_all([may, april])
        s.flush()
        s.add(g.GridAssessment(month_id=may.id, member_id=head.id, total=950, subsidy_fen=80_000))
        s.add(g.GridAssessment(month_id=april.id, member_id=head.id, total=900, subsidy_fen=50_000))
        s.add(g.GridStar(month_id=may.id, member_id=head.id, village_id=va.id, deeds="带头走访群众，化解矛盾纠纷多起",
                         chosen_by="测试"))

        # evaluations: last year's 星级文明户, finalised in March; 乙村 B1's title revoked in May
        def scheme(key: str, target: str) -> e.EvalScheme:
            return s.scalar(select(e.EvalScheme).where(e.EvalScheme.key == key))  # shipped, synced above

        def final_round(sch: e.EvalScheme, name: str, villages: list[m.Village]) -> e.EvalRound:
            row = e.EvalRound(scheme_id=sch.id, name=name, year=2025, stage=stages[sch.id], status="已定级",
                              locked=True, finalised_on=D(2026, 3, 1))
            s.add(row)
            s.flush()
            s.add_all([e.EvalRoundVillage(round_id=row.id, village_id=v.id) for v in villages])
            return row

        households_round = final_round(scheme("civilized_household", "household"), "2025年度星级文明户", [va, vb])
        for number, label, village, level, rank, revoked in (
                ("A1", "李秀英", va, "五星", 3, None), ("A2", "马福", va, "三星", 1, None),
                ("A3", "张建国", va, None, 0, None), ("B1", "那兰", vb, "四星", 2, D(2026, 5, 1)),
                ("B2", "孙强", vb, "三星", 1, None)):
            s.add(e.EvalTarget(round_id=households_round.id, village_id=village.id, ref_id=houses[number],
                               label=label, code=number, level=level, rank=rank, revoked_on=revoked))
        org_round = final_round(scheme("village_org_star", "village_org"), "2025年度村党组织评星定级", [va])
        s.add(e.EvalTarget(round_id=org_round.id, village_id=va.id, ref_id=va.id, label="甲村党组织", code=va.code,
                           level="四星", rank=4))

        # archives: 甲村 has 2026 figures; 乙村 only 2025 ones and is listed 软弱涣散 this year
        s.add(a.ArchiveYear(village_id=va.id, year=2026, total_income=150_000_000, business_income=100_000_000,
                            debt_closing=2_000_000, funding_standard=5_000_000, funding_received=5_000_000,
                            org_star=3))
        s.add(a.ArchiveYear(village_id=vb.id, year=2025, total_income=50_000_000, business_income=30_000_000,
                            debt_closing=0, funding_standard=5_000_000, funding_received=3_000_000,
                            secretary_star=4))
        s.add(a.ArchiveRectification(village_id=vb.id, year=2026, clauses="1"))
        s.add(a.ArchiveCentre(village_id=va.id, area_m2=350.5))
        for title, status, done in (("修路", "已完成", D(2026, 5, 1)), ("路灯", "已完成", D(2026, 8, 1)),
                                    ("水井", "推进中", None)):
            s.add(a.ArchiveCommitment(village_id=va.id, year=2026, title=title, status=status, completed_on=done))
        return Town(va.id, vb.id, households_round.id, houses)

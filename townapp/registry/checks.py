"""Registry consistency checks for ``townapp check``: errors fail it, warnings are listed."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from townapp.core.errors import CheckReport
from townapp.core.idcard import IdNumberError, parse_id_number
from townapp.db import Database
from townapp.registry import models as m

_LISTED = 20  # name this many offenders, then count the rest


def _add(target: list[str], messages: list[str]) -> None:
    target.extend(messages[:_LISTED])
    if len(messages) > _LISTED:
        target.append(f"……同类问题共 {len(messages)} 处")


def registry_checks(db: Database, report: CheckReport, facts: dict) -> None:
    with db.engine.connect() as conn:
        heads = (select(m.HouseholdMember.household_id, func.count().label("n"))
                 .where(m.HouseholdMember.relation == "户主").group_by(m.HouseholdMember.household_id).subquery())
        rows = conn.execute(
            select(m.Village.name, m.Household.number, func.coalesce(heads.c.n, 0))
            .join(m.Village, m.Village.id == m.Household.village_id)
            .outerjoin(heads, heads.c.household_id == m.Household.id)
            .where(func.coalesce(heads.c.n, 0) != 1)
        ).all()
        _add(report.errors, [f"{v} {n} 户有 {c} 位户主（应为1位）" for v, n, c in rows])

        problems: list[str] = []
        today = dt.date.today()
        for name, number, sex, birth in conn.execute(
                select(m.Person.name, m.Person.id_number, m.Person.sex, m.Person.birth_date)):
            try:
                info = parse_id_number(number, today)
            except IdNumberError as exc:
                problems.append(f"{name}：{exc.message}")
                continue
            if info.sex != sex or info.birth_date != birth:
                problems.append(f"{name}：性别或出生日期与身份证号不符")
        _add(report.errors, problems)

        stray = conn.execute(
            select(m.Person.name, m.Village.name)
            .join(m.HouseholdMember, m.HouseholdMember.person_id == m.Person.id)
            .join(m.Household, m.Household.id == m.HouseholdMember.household_id)
            .join(m.Village, m.Village.id == m.Household.village_id)
            .where(m.Person.village_id != m.Household.village_id)
        ).all()
        _add(report.warnings, [f"{p} 所属村与其住户所在的 {v} 不一致" for p, v in stray])
        facts["villages"] = conn.execute(select(func.count()).select_from(m.Village)).scalar_one()
        facts["people"] = conn.execute(select(func.count()).select_from(m.Person)).scalar_one()

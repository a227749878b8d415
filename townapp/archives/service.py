"""Village archive use cases. Each public method is one unit of work and returns DTOs.

Registry tables are only read here (names, party-member counts) — people and
party members are entered once, in the registry, and referenced by id.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import shutil
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Date, func, select
from sqlalchemy.orm import Session

from townapp import config
from townapp.archives import models as a
from townapp.archives import rules as r
from townapp.archives import validation
from townapp.archives.dto import (
    AttachmentData,
    AttendanceData,
    CadreData,
    CentreData,
    CommitmentData,
    CooperativeData,
    FirstSecretaryData,
    MeetingData,
    OverviewRow,
    PartyCounts,
    PartyMemberChoice,
    PayData,
    PayLine,
    PayTable,
    ProfileData,
    RectificationData,
    RuleViolation,
    TalentData,
    TermData,
    YearData,
    YearPoint,
)
from townapp.archives.remuneration import (
    STAR_LABELS,
    PayInputs,
    Streak,
    activity_fund,
    compute_pay,
    count_streak,
    levels_gained,
    monthly_basic,
    pay_rules,
)
from townapp.archives.vocab import fields, pass_mark, vocab, year_fields
from townapp.core import permissions
from townapp.core.actor import SYSTEM_ACTOR, Actor
from townapp.core.dates import age_on, as_month_date, kept_month, month_dates_of, with_month_dates
from townapp.core.errors import DomainError, FieldProblem, NotFound, ValidationFailed
from townapp.core.idcard import normalize_id_number
from townapp.core.money import format_yuan
from townapp.core.text import clean_name
from townapp.db import Database
from townapp.db.base import get_or_missing
from townapp.db.batch import ModuleBatch
from townapp.registry import models as m

log = logging.getLogger(__name__)
T = TypeVar("T")
YOUNG_AGE = 35
MAX_ATTACHMENT_BYTES = 200 * 1024 * 1024
ARCHIVE = "村级档案"  # what a refusal names: every read and write names its village first (core/permissions)


def register_member_ids(executor: Session | Connection, village_id: int) -> set[int]:
    """The party members in the village's register (党籍正常): who may be on its meetings' lists
    (``validation.check_attendee``), read the one way by the dialog, the importer and the points service."""
    return set(executor.scalars(select(m.PartyMember.id).join(m.Person, m.Person.id == m.PartyMember.person_id)
                                .where(m.Person.village_id == village_id, m.PartyMember.status == "正常")))


def attachments_dir() -> Path:
    path = config.data_dir() / "attachments"
    path.mkdir(parents=True, exist_ok=True)
    return path


def attachment_file(sha256: str, suffix: str) -> Path:
    """Where a stored file lives: attachments/ab/abcdef….jpg (two-letter folders keep listings short)."""
    return attachments_dir() / sha256[:2] / f"{sha256}{suffix}"


def _dated(row: Any, attr: str) -> dt.date | None:
    """A row's date as entered: a ``MonthDate`` when the row's ``month_dates`` names it (任职日期 2021.03)."""
    return as_month_date(getattr(row, attr), row.month_dates, attr)


def _keep_months(row: Any, values: dict[str, Any]) -> dict[str, Any]:
    """A form's values over a row whose dates may be months: a month saved unchanged (its 1st, as a date
    picker shows it) stays a month, and the row's ``month_dates`` mark follows the values."""
    dates = [c.name for c in row.__table__.c if isinstance(c.type, Date)]
    stored = with_month_dates({k: getattr(row, k) for k in dates}, row.month_dates)
    values = {k: (kept_month(stored[k], v) if k in stored else v) for k, v in values.items()}
    return {**values, "month_dates": month_dates_of({**stored, **values}, dates)}


def year_values(row: a.ArchiveYear | None) -> dict[str, Any]:
    return {f.key: (getattr(row, f.key) if row is not None else None) for f in year_fields()}


RATED = "来自评星定级"
RATED_FIELDS = ("org_star", "secretary_star", "creation_level")  # what a finalised 定级 writes into a village-year


@dataclass
class Ratings:
    """What the finalised (locked) 定级 rounds of one village-year say: the archive takes these, never a hand edit."""

    values: dict[str, Any] = field(default_factory=dict)  # org_star / secretary_star / creation_level
    sources: dict[str, str] = field(default_factory=dict)  # the same fields → 来自评星定级（…）
    secretary: int | None = None  # the rated 书记 (person id)
    grade: str | None = None  # their 考核等级 from the round's 年度考核结果
    grade_source: str = ""


def _rated_value(key: str, result: Any) -> Any:
    """What a village's 定级 result puts into the archive field ``key`` (a VillageResult of evaluations)."""
    return (result.level if result.passed else None) if key == "creation_level" else result.rank


_shown = validation.shown_rating


class ArchiveService:
    """一村一档: yearly figures, 两委, talents, pay, centre, rectification, commitments, meetings, attachments."""

    def __init__(self, db: Database, actor: Actor = SYSTEM_ACTOR) -> None:
        self.db = db
        self.actor = actor

    @staticmethod
    def _village(s: Session, village_id: int) -> m.Village:
        return get_or_missing(s, m.Village, village_id, "这个村/社区已不存在（可能已被删除）")

    @staticmethod
    def _own_row(s: Session, model: type, village_id: int, **key: Any) -> Any:
        """The village's one row of ``model`` for ``key`` (e.g. ``year=2025``; none for the centre), added when missing."""
        row = s.scalar(select(model).filter_by(village_id=village_id, **key))
        if row is None:
            row = model(village_id=village_id, **key)
            s.add(row)
        return row

    def village_id_by_code(self, code: str) -> int:
        with self.db.reader() as s:
            vid = s.scalar(select(m.Village.id).where(m.Village.code == code.strip()))
        if vid is None:
            raise NotFound(f"没有区划代码为 {code} 的村/社区")
        permissions.require_read(self.actor, vid, ARCHIVE)
        return vid

    def village_name(self, village_id: int) -> tuple[str, str]:
        permissions.require_read(self.actor, village_id, ARCHIVE)
        with self.db.reader() as s:
            village = self._village(s, village_id)
            return village.code, village.name

    # ----- registry-derived -------------------------------------------------
    def party_counts(self, village_id: int, as_of: dt.date | None = None) -> PartyCounts:
        """Party members of the village (党籍正常) as the registry has them today."""
        permissions.require_read(self.actor, village_id, ARCHIVE)
        as_of = as_of or dt.date.today()
        with self.db.reader() as s:
            rows = s.execute(select(m.PartyMember.member_type, m.PartyMember.mobility, m.Person.sex,
                                    m.Person.birth_date)
                             .join(m.Person, m.Person.id == m.PartyMember.person_id)
                             .where(m.Person.village_id == village_id, m.PartyMember.status == "正常")).all()
        return PartyCounts(
            total=len(rows),
            formal=sum(1 for t, *_ in rows if t == "正式党员"),
            probationary=sum(1 for t, *_ in rows if t == "预备党员"),
            female=sum(1 for _t, _m, sex, _b in rows if sex == "女"),
            young=sum(1 for *_x, birth in rows if age_on(birth, as_of) <= YOUNG_AGE),
            mobile=sum(1 for _t, mob, *_ in rows if mob == "流动"),
        )

    def party_members(self, village_id: int) -> list[PartyMemberChoice]:
        """The village's party members (党籍正常), for attendance and post pickers."""
        permissions.require_read(self.actor, village_id, ARCHIVE)
        with self.db.reader() as s:
            rows = s.execute(select(m.PartyMember.id, m.Person.id, m.Person.name)
                             .join(m.Person, m.Person.id == m.PartyMember.person_id)
                             .where(m.Person.village_id == village_id, m.PartyMember.status == "正常")
                             .order_by(m.Person.name_initials, m.Person.name, m.Person.id)).all()
        return [PartyMemberChoice(pm, pid, name) for pm, pid, name in rows]

    def resolve_person(self, village_id: int, text: str) -> int:
        """A person named by 身份证号, or by a name unique in the village.

        A clerk's ID lookup is confined to their village, and an ID registered in
        another village gets the very answer of an unregistered one: the archive
        never tells a clerk who lives elsewhere in the township.
        """
        permissions.require_read(self.actor, village_id, ARCHIVE)
        text = (text or "").strip()
        if not text:
            raise ValidationFailed([FieldProblem("person", "请填写姓名或身份证号")])
        with self.db.reader() as s:
            number = normalize_id_number(text)
            if len(number) == 18 and number[:17].isdigit():
                query = select(m.Person.id).where(m.Person.id_number == number)
                if permissions.visible_village(self.actor) is not None:
                    query = query.where(m.Person.village_id == village_id)
                pid = s.scalar(query)
                if pid is None:
                    raise ValidationFailed([FieldProblem("person", f"本村没有这个人（身份证号 {text}）："
                                                                   "请先在人员信息中登记，或核对身份证号")])
                return pid
            ids = s.scalars(select(m.Person.id).where(m.Person.village_id == village_id,
                                                      m.Person.name == clean_name(text))).all()
        if not ids:
            raise ValidationFailed([FieldProblem("person", f"本村人员中没有“{text}”，请先在人员信息中登记")])
        if len(ids) > 1:
            raise ValidationFailed([FieldProblem("person", f"本村有{len(ids)}人叫“{text}”，请改填身份证号")])
        return ids[0]

    @staticmethod
    def _names(s: Session, person_ids: Sequence[int | None]) -> dict[int, str]:
        ids = sorted({p for p in person_ids if p is not None})
        if not ids:
            return {}
        return dict(s.execute(select(m.Person.id, m.Person.name).where(m.Person.id.in_(ids))).all())

    # ----- 村情概况 ------------------------------------------------------------
    def profile(self, village_id: int, year: int) -> ProfileData:
        permissions.require_read(self.actor, village_id, ARCHIVE)
        with self.db.reader() as s:
            self._village(s, village_id)
            row = s.scalar(select(a.ArchiveProfile).where(a.ArchiveProfile.village_id == village_id,
                                                          a.ArchiveProfile.year == year))
            values = {f.key: (getattr(row, f.key) if row else None) for f in fields("profile")}
        return ProfileData(village_id, year, values, self.party_counts(village_id, dt.date(year, 12, 31)))

    def save_profile(self, data: ProfileData) -> None:
        permissions.require_write(self.actor, data.village_id, ARCHIVE)
        problems = validation.check_profile(data.values)
        if problems:
            raise ValidationFailed(problems)
        with self.db.unit_of_work(self.actor) as s:
            self._village(s, data.village_id)
            row = self._own_row(s, a.ArchiveProfile, data.village_id, year=data.year)
            for f in fields("profile"):
                value = data.values.get(f.key)
                if f.vocabulary and value:
                    value = vocab(f.vocabulary).canonical(value)
                setattr(row, f.key, value)

    # ----- yearly figures --------------------------------------------------
    def years(self, village_id: int) -> list[int]:
        permissions.require_read(self.actor, village_id, ARCHIVE)
        with self.db.reader() as s:
            return list(s.scalars(select(a.ArchiveYear.year).where(a.ArchiveYear.village_id == village_id)
                                  .order_by(a.ArchiveYear.year)))

    def year(self, village_id: int, year: int) -> YearData:
        permissions.require_read(self.actor, village_id, ARCHIVE)
        with self.db.reader() as s:
            self._village(s, village_id)
            row = s.scalar(select(a.ArchiveYear).where(a.ArchiveYear.village_id == village_id,
                                                       a.ArchiveYear.year == year))
            values = year_values(row)
        return YearData(village_id, year, values, self._ratings(village_id, year).sources)

    def _ratings(self, village_id: int, year: int) -> Ratings:
        """The village-year's results written by 定级 (村党组织星级, 书记星级 and 考核, 创建等级), as the
        archive recorded them when the evaluations' feed wrote them (``rated``, ``grade_source``): the
        archive keeps its own provenance and never reads another module's tables."""
        out = Ratings()
        with self.db.reader() as s:
            row = s.scalar(select(a.ArchiveYear).where(a.ArchiveYear.village_id == village_id,
                                                       a.ArchiveYear.year == year))
            if row is not None and row.rated:
                for key, source in json.loads(row.rated).items():
                    if key in RATED_FIELDS:
                        out.values[key] = getattr(row, key)
                        out.sources[key] = source
            pay = s.execute(select(a.ArchivePay.person_id, a.ArchivePay.grade, a.ArchivePay.grade_source)
                            .where(a.ArchivePay.village_id == village_id, a.ArchivePay.year == year,
                                   a.ArchivePay.grade_source.is_not(None))).first()
        if pay is not None:
            out.secretary, out.grade, out.grade_source = pay
        return out

    def set_rating_from_evaluation(self, village_id: int, year: int, key: str, value: Any, source: str, *,
                                   person_id: int | None = None, inputs: dict[str, Any] | None = None) -> None:
        """Write a finalised 定级 result into the village-year (the evaluations' feed calls this after 定级),
        with where it came from, so that the field reads 来自评星定级 and a differing hand edit is refused.

        For the 书记星级, the rated 书记 (``person_id``) and the round's inputs come too: the 年度考核结果
        among them becomes the 考核等级 of the 书记's pay row (added when the 书记 has none).
        """
        permissions.require_write(self.actor, village_id, ARCHIVE)
        if key not in RATED_FIELDS:
            raise DomainError(f"“{key}”不是评星定级写入一村一档的字段")
        problems = validation.check_year({key: value})
        if problems:
            raise ValidationFailed(problems)
        assessment = pay_rules().secretary_assessment
        result = (inputs or {}).get(assessment.input) if assessment is not None else None
        grade = assessment.grades.get(result) if assessment is not None and result else None
        with self.db.unit_of_work(self.actor) as s:
            self._village(s, village_id)
            row = self._own_row(s, a.ArchiveYear, village_id, year=year)
            setattr(row, key, value)
            rated = json.loads(row.rated) if row.rated else {}
            rated[key] = f"{RATED}（{source}：{_shown(key, value)}）"
            row.rated = json.dumps(rated, ensure_ascii=False, sort_keys=True)
            if key == "secretary_star" and person_id is not None and grade:
                self._secretary_pay_grade(s, village_id, year, person_id, grade,
                                          f"{RATED}（{source}年度考核结果：{result}）")

    @staticmethod
    def _secretary_pay_grade(s: Session, village_id: int, year: int, person_id: int, grade: str,
                             source: str) -> None:
        """The rated 书记's pay row takes the annual 考核等级; a 书记 with no row gets one (书记, 12个月)."""
        row = s.scalar(select(a.ArchivePay).where(a.ArchivePay.village_id == village_id, a.ArchivePay.year == year,
                                                  a.ArchivePay.person_id == person_id))
        if row is None:
            post = s.scalar(select(a.ArchiveCadre.post).where(
                a.ArchiveCadre.village_id == village_id, a.ArchiveCadre.person_id == person_id,
                a.ArchiveCadre.ended_on.is_(None)).order_by(a.ArchiveCadre.post != "书记").limit(1)) or "书记"
            row = a.ArchivePay(village_id=village_id, year=year, person_id=person_id, post=post, months=12)
            s.add(row)
        for other in s.scalars(select(a.ArchivePay).where(a.ArchivePay.village_id == village_id,
                                                          a.ArchivePay.year == year, a.ArchivePay.id != row.id,
                                                          a.ArchivePay.grade_source.is_not(None))):
            other.grade_source = None  # one rated 书记 a village-year: a re-rating names another
        row.grade, row.grade_source = grade, source

    @staticmethod
    def check_year(data: YearData) -> list[FieldProblem]:
        """Field and rule problems of a year's figures (errors block saving, warnings do not)."""
        return validation.check_year(data.values)

    def save_year(self, data: YearData) -> list[FieldProblem]:
        """Save a year's figures if no rule error is broken; returns the warnings that remain."""
        permissions.require_write(self.actor, data.village_id, ARCHIVE)
        with self.db.reader() as s:
            around = {row.year: year_values(row) for row in s.scalars(select(a.ArchiveYear).where(
                a.ArchiveYear.village_id == data.village_id, a.ArchiveYear.year.in_((data.year - 1, data.year,
                                                                                     data.year + 1))))}
        problems = validation.check_year(data.values, data.year, around.get(data.year - 1))
        ratings = self._ratings(data.village_id, data.year)
        problems += validation.rating_problems(data.values, around.get(data.year, {}), {
            key: (value, ratings.sources[key]) for key, value in ratings.values.items()})
        if data.year + 1 in around:  # a closing that no longer matches next year's opening: said, not refused
            problems += [FieldProblem("debt_closing", v.message, "warning") for v in
                         r.check_carry_over(data.year + 1, around[data.year + 1], data.values)]
        if any(p.severity == "error" for p in problems):
            raise ValidationFailed(problems)
        with self.db.unit_of_work(self.actor) as s:
            self._village(s, data.village_id)
            row = self._own_row(s, a.ArchiveYear, data.village_id, year=data.year)
            for f in year_fields():
                value = data.values.get(f.key)
                if f.vocabulary and value:
                    value = vocab(f.vocabulary).canonical(value)
                if f.kind == "bool":
                    value = bool(value)
                setattr(row, f.key, value)
        return [p for p in problems if p.severity == "warning"]

    def carry_forward(self, village_id: int, year: int) -> list[str]:
        """Start ``year + 1`` from ``year``: 年初债务余额 = this year's 年末余额, and the 重点村 flag.

        Idempotent and never overwrites what someone typed: an existing next year keeps its own opening
        balance and flag (only an empty opening is filled). Returns what was carried, in words.
        """
        permissions.require_write(self.actor, village_id, ARCHIVE)
        carried: list[str] = []
        with self.db.unit_of_work(self.actor) as s:
            self._village(s, village_id)
            this = s.scalar(select(a.ArchiveYear).where(a.ArchiveYear.village_id == village_id,
                                                        a.ArchiveYear.year == year))
            if this is None:
                return carried
            after = s.scalar(select(a.ArchiveYear).where(a.ArchiveYear.village_id == village_id,
                                                         a.ArchiveYear.year == year + 1))
            if after is None:
                after = a.ArchiveYear(village_id=village_id, year=year + 1, designated=bool(this.designated))
                s.add(after)
                if this.designated:
                    carried.append("重点村")
            if after.debt_opening is None and this.debt_closing is not None:
                after.debt_opening = this.debt_closing
                carried.append(f"年初债务余额{format_yuan(this.debt_closing)}元")
        return carried

    def chart_points(self, village_id: int) -> list[YearPoint]:
        permissions.require_read(self.actor, village_id, ARCHIVE)
        with self.db.reader() as s:
            rows = s.execute(select(a.ArchiveYear.year, a.ArchiveYear.total_income, a.ArchiveYear.business_income,
                                    a.ArchiveYear.debt_closing)
                             .where(a.ArchiveYear.village_id == village_id).order_by(a.ArchiveYear.year)).all()
        return [YearPoint(*row) for row in rows]

    # ----- lists edited as tables: a generic replace ---------------------------
    def _replace(self, s: Session, model: type, village_id: int, scope: dict[str, Any], items: Sequence[Any],
                 attrs: Sequence[str], convert: Callable[[Any], dict[str, Any]] | None = None) -> list[int]:
        """Make the rows of ``model`` in ``scope`` exactly ``items``: update by id, add new, delete missing."""
        query = select(model).where(model.village_id == village_id)
        for key, value in scope.items():
            query = query.where(getattr(model, key) == value)
        existing = {row.id: row for row in s.scalars(query)}
        kept: list[int] = []
        months = "month_dates" in model.__table__.c
        for item in items:
            values = convert(item) if convert else {k: getattr(item, k) for k in attrs}
            row = existing.get(item.id) if item.id is not None else None
            if row is None:
                row = model(village_id=village_id, **scope)
                s.add(row)
            if months:
                values = _keep_months(row, values)
            for key, value in values.items():
                setattr(row, key, value)
            s.flush()
            kept.append(row.id)
        for row_id, row in existing.items():
            if row_id not in kept:
                s.delete(row)
        return kept

    # ----- 两委班子 and 换届 ------------------------------------------------------
    def cadres(self, village_id: int) -> list[CadreData]:
        permissions.require_read(self.actor, village_id, ARCHIVE)
        with self.db.reader() as s:
            rows = list(s.scalars(select(a.ArchiveCadre).where(a.ArchiveCadre.village_id == village_id)
                                  .order_by(a.ArchiveCadre.ended_on.is_not(None), a.ArchiveCadre.started_on.desc(),
                                            a.ArchiveCadre.id)))
            names = self._names(s, [c.person_id for c in rows])
            return [CadreData(c.person_id, c.post, c.one_shoulder, _dated(c, "started_on"), _dated(c, "ended_on"),
                              c.term_no, names.get(c.person_id, ""), c.id) for c in rows]

    def check_cadres(self, village_id: int, items: Sequence[CadreData]) -> list[FieldProblem]:
        permissions.require_write(self.actor, village_id, ARCHIVE)
        problems: list[FieldProblem] = []
        for index, item in enumerate(items):
            problems += [FieldProblem(f"cadres[{index}].{'person' if p.field == 'person_id' else p.field}",
                                      f"第{index + 1}行：{p.message}")
                         for p in validation.check_cadre(item.person_id, item.post, item.started_on, item.ended_on)]
        if problems:
            return problems
        with self.db.reader() as s:
            names = self._names(s, [c.person_id for c in items])
            homes = set(s.scalars(select(m.Person.village_id).where(m.Person.id.in_([c.person_id for c in items]))))
        for home in homes:  # a clerk's 两委 are people the clerk may see: their own village's
            permissions.require_read(self.actor, home, "人员")
        facts = [r.CadreFact(c.person_id or 0, names.get(c.person_id or 0, c.name), vocab("cadre_post").canonical(c.post)
                             or c.post, c.one_shoulder, c.started_on, c.ended_on) for c in items]
        return [FieldProblem("cadres", v.message, v.severity) for v in r.check_cadres(facts)]

    def save_cadres(self, village_id: int, items: Sequence[CadreData]) -> None:
        permissions.require_write(self.actor, village_id, ARCHIVE)
        problems = self.check_cadres(village_id, items)
        if any(p.severity == "error" for p in problems):
            raise ValidationFailed(problems)
        with self.db.unit_of_work(self.actor) as s:
            self._village(s, village_id)
            self._replace(s, a.ArchiveCadre, village_id, {}, items, (), lambda c: dict(
                person_id=c.person_id, post=vocab("cadre_post").canonical(c.post), one_shoulder=bool(c.one_shoulder),
                started_on=c.started_on, ended_on=c.ended_on, term_no=c.term_no))

    def terms(self, village_id: int) -> list[TermData]:
        permissions.require_read(self.actor, village_id, ARCHIVE)
        with self.db.reader() as s:
            return [TermData(t.term_no, _dated(t, "starts_on"), _dated(t, "ends_on"), t.completed, t.note, t.id)
                    for t in s.scalars(select(a.ArchiveTerm).where(a.ArchiveTerm.village_id == village_id)
                                       .order_by(a.ArchiveTerm.term_no))]

    def save_terms(self, village_id: int, items: Sequence[TermData]) -> None:
        permissions.require_write(self.actor, village_id, ARCHIVE)
        numbers = [t.term_no for t in items]
        problems = [FieldProblem("terms", "届次不能为空")] if any(n is None for n in numbers) else []
        if len(set(numbers)) != len(numbers):
            problems.append(FieldProblem("terms", "届次重复"))
        problems += [FieldProblem("terms", f"第{t.term_no}届：{p.message}") for t in items
                     for p in validation.check_term(t.starts_on, t.ends_on)]
        if problems:
            raise ValidationFailed(problems)
        with self.db.unit_of_work(self.actor) as s:
            self._replace(s, a.ArchiveTerm, village_id, {}, items, ("term_no", "starts_on", "ends_on", "completed",
                                                                     "note"))

    def first_secretaries(self, village_id: int) -> list[FirstSecretaryData]:
        permissions.require_read(self.actor, village_id, ARCHIVE)
        with self.db.reader() as s:
            return [FirstSecretaryData(f.name, f.unit, _dated(f, "started_on"), _dated(f, "ended_on"), f.phone, f.id)
                    for f in s.scalars(select(a.ArchiveFirstSecretary)
                                       .where(a.ArchiveFirstSecretary.village_id == village_id)
                                       .order_by(a.ArchiveFirstSecretary.started_on, a.ArchiveFirstSecretary.id))]

    def save_first_secretaries(self, village_id: int, items: Sequence[FirstSecretaryData]) -> None:
        permissions.require_write(self.actor, village_id, ARCHIVE)
        if any(not clean_name(f.name or "") for f in items):
            raise ValidationFailed([FieldProblem("first_secretaries", "第一书记姓名不能为空")])
        with self.db.unit_of_work(self.actor) as s:
            self._replace(s, a.ArchiveFirstSecretary, village_id, {}, items,
                          ("name", "unit", "started_on", "ended_on", "phone"))

    # ----- 人才 ----------------------------------------------------------------
    def talents(self, village_id: int, kind: str | None = None) -> list[TalentData]:
        permissions.require_read(self.actor, village_id, ARCHIVE)
        with self.db.reader() as s:
            query = select(a.ArchiveTalent).where(a.ArchiveTalent.village_id == village_id)
            if kind:
                query = query.where(a.ArchiveTalent.kind == kind)
            return [TalentData(t.kind, t.name, t.person_id, _dated(t, "birth_date"), t.education, t.measures,
                               _dated(t, "arrived_on"),
                               t.workplace, t.industry, t.contact, t.return_intent, t.returned, t.phone, t.id)
                    for t in s.scalars(query.order_by(a.ArchiveTalent.kind, a.ArchiveTalent.id))]

    def save_talents(self, village_id: int, kind: str, items: Sequence[TalentData]) -> None:
        """Replace the talents of one kind (后备干部 / 振兴专员 / 在外人才)."""
        permissions.require_write(self.actor, village_id, ARCHIVE)
        kind = vocab("talent_kind").canonical(kind) or ""
        if not kind:
            raise DomainError("人才类别不在取值表中")
        problems = [FieldProblem("talents", f"第{i + 1}行：姓名不能为空") for i, t in enumerate(items)
                    if not clean_name(t.name or "")]
        problems += [FieldProblem("talents", f"第{i + 1}行：回引意向“{t.return_intent}”不在取值表中")
                     for i, t in enumerate(items) if t.return_intent and vocab("return_intent").canonical(t.return_intent) is None]
        if problems:
            raise ValidationFailed(problems)
        attrs = ("name", "person_id", "birth_date", "education", "measures", "arrived_on", "workplace", "industry",
                 "contact", "return_intent", "returned", "phone")
        with self.db.unit_of_work(self.actor) as s:
            self._replace(s, a.ArchiveTalent, village_id, {"kind": kind}, items, attrs)

    # ----- 报酬 ----------------------------------------------------------------
    def pay_inputs(self, village_id: int, year: int) -> list[PayData]:
        """Each cadre's pay basis; the rated 书记's 考核等级 is the annual result of 定级 (read-only, with 来源)."""
        permissions.require_read(self.actor, village_id, ARCHIVE)
        ratings = self._ratings(village_id, year)
        with self.db.reader() as s:
            rows = list(s.scalars(select(a.ArchivePay).where(a.ArchivePay.village_id == village_id,
                                                             a.ArchivePay.year == year).order_by(a.ArchivePay.id)))
            names = self._names(s, [p.person_id for p in rows])
            out = []
            for p in rows:
                rated = ratings.grade is not None and p.person_id == ratings.secretary
                out.append(PayData(p.person_id, p.post, p.months, ratings.grade if rated else p.grade,
                                   names.get(p.person_id, ""), p.id, ratings.grade_source if rated else ""))
        return out

    def save_pay_inputs(self, village_id: int, year: int, items: Sequence[PayData]) -> None:
        permissions.require_write(self.actor, village_id, ARCHIVE)
        problems = []
        for i, p in enumerate(items):
            problems += [FieldProblem("pay", f"第{i + 1}行：{x.message}")
                         for x in validation.check_pay(p.person_id, p.post, p.months, p.grade)]
        if len({p.person_id for p in items}) != len(items):
            problems.append(FieldProblem("pay", "同一人在报酬表中出现了两次"))
        ratings = self._ratings(village_id, year)
        for i, p in enumerate(items):
            if p.person_id == ratings.secretary:
                problems += [FieldProblem("pay", f"第{i + 1}行：{x.message}") for x in
                             validation.rated_grade_problems(p.grade, ratings.grade, ratings.grade_source)]
        if problems:
            raise ValidationFailed(problems)
        with self.db.unit_of_work(self.actor) as s:
            self._replace(s, a.ArchivePay, village_id, {"year": year}, items, (), lambda p: dict(
                person_id=p.person_id, post=vocab("cadre_post").canonical(p.post), months=p.months,
                grade=vocab("pay_grade").canonical(p.grade) if p.grade else None))

    def pay_table(self, village_id: int, year: int) -> PayTable:
        """报酬发放表: each cadre's basic, 考核, 星级, 晋位/连续 and 创建 amounts from the rules (分).

        Stars and the creation level are the finalised 定级 results where there are any (the archive's
        figures otherwise); 晋位 compares with last year's archive star; the 连续/累计 count reads the
        organisation's stars of every archived year up to this one.
        """
        permissions.require_read(self.actor, village_id, ARCHIVE)
        code, name = self.village_name(village_id)
        rules = pay_rules()
        ratings = self._ratings(village_id, year)
        with self.db.reader() as s:
            history = {row.year: year_values(row) for row in s.scalars(select(a.ArchiveYear).where(
                a.ArchiveYear.village_id == village_id, a.ArchiveYear.year <= year))}
        figures = {**history.get(year, year_values(None)), **ratings.values}
        before = history.get(year - 1, {})
        streak, streak_text = Streak(), ""
        if rules.streak is not None:
            stars = {y: v.get(rules.streak.field) for y, v in history.items()}
            stars[year] = figures.get(rules.streak.field)
            streak = count_streak(stars, year, rules.streak.min_star)
            streak_text = (f"{STAR_LABELS[rules.streak.field]}{_shown(rules.streak.field, rules.streak.min_star)}"
                           f"及以上：连续{streak.consecutive}年、累计{streak.total}次"
                           f"（连续{rules.streak.consecutive}年或累计{rules.streak.total}次"
                           f"{'，已达到' if streak.reached(rules.streak) else '，未达到'}）")
        designated = bool(figures.get("designated"))
        lines = []
        for p in self.pay_inputs(village_id, year):
            amounts = compute_pay(PayInputs(post=p.post, months=p.months, grade=p.grade, designated=designated,
                                            secretary_star=figures.get("secretary_star"),
                                            org_star=figures.get("org_star"),
                                            creation_level=figures.get("creation_level"),
                                            previous_secretary_star=before.get("secretary_star"),
                                            previous_org_star=before.get("org_star"), streak=streak), rules)
            remark = []
            if amounts.promotion:
                gained = [f"{STAR_LABELS[k]}晋{levels_gained(figures.get(k), before.get(k))}级"
                          for k in ("secretary_star", "org_star")
                          if rules.promotion_per_level.get(k) and levels_gained(figures.get(k), before.get(k))
                          and (k == "org_star" or p.post in rules.secretary_star_posts)]
                remark.append("晋位奖励：" + "、".join(gained))
            if amounts.streak:
                remark.append("连续/累计奖励")
            if p.grade_source:
                remark.append("考核等级来自书记星级化管理年度考核")
            lines.append(PayLine(p.name, p.post, p.months, p.grade or "", amounts.basic, amounts.assessment,
                                 amounts.star, amounts.creation, amounts.total, amounts.bonus, "；".join(remark),
                                 monthly_basic(p.post, designated, rules)))
        rated = "（来自评星定级）" if ratings.values else ""
        basis = (f"创建等级：{figures.get('creation_level') or '无'}；村党组织星级：{figures.get('org_star') or '未评'}；"
                 f"书记星级：{figures.get('secretary_star') or '未评'}{rated}；"
                 f"{'重点村（深度贫困村）' if designated else '非重点村'}"
                 + (f"；{streak_text}" if streak_text else ""))
        return PayTable(code, name, year, basis, tuple(lines), activity_fund(figures.get("creation_level"), rules),
                        streak_text, figures.get("creation_level") or "")

    # ----- 党群服务中心 ----------------------------------------------------------
    def centre(self, village_id: int) -> CentreData:
        permissions.require_read(self.actor, village_id, ARCHIVE)
        with self.db.reader() as s:
            row = s.scalar(select(a.ArchiveCentre).where(a.ArchiveCentre.village_id == village_id))
            if row is None:
                return CentreData()
            return CentreData(row.address, row.area_m2, row.built_year,
                              [x for x in (row.rooms or "").split("、") if x])

    def save_centre(self, village_id: int, data: CentreData) -> None:
        permissions.require_write(self.actor, village_id, ARCHIVE)
        problems = validation.check_centre(data.area_m2, data.built_year)
        if problems:
            raise ValidationFailed(problems)
        with self.db.unit_of_work(self.actor) as s:
            self._village(s, village_id)
            row = self._own_row(s, a.ArchiveCentre, village_id)
            row.address, row.area_m2, row.built_year = data.address, data.area_m2, data.built_year
            row.rooms = "、".join(clean_name(x) for x in data.rooms if clean_name(x)) or None

    # ----- 合作社 ----------------------------------------------------------------
    def cooperatives(self, village_id: int, year: int) -> list[CooperativeData]:
        permissions.require_read(self.actor, village_id, ARCHIVE)
        with self.db.reader() as s:
            return [CooperativeData(c.name, c.members, c.income_to_collective, c.id)
                    for c in s.scalars(select(a.ArchiveCooperative)
                                       .where(a.ArchiveCooperative.village_id == village_id,
                                              a.ArchiveCooperative.year == year).order_by(a.ArchiveCooperative.id))]

    def save_cooperatives(self, village_id: int, year: int, items: Sequence[CooperativeData]) -> None:
        permissions.require_write(self.actor, village_id, ARCHIVE)
        problems = [FieldProblem("cooperatives", f"第{i + 1}行：{p.message}") for i, c in enumerate(items)
                    for p in validation.check_cooperative(c.name, c.members, c.income_to_collective)]
        if problems:
            raise ValidationFailed(problems)
        with self.db.unit_of_work(self.actor) as s:
            self._replace(s, a.ArchiveCooperative, village_id, {"year": year}, items,
                          ("name", "members", "income_to_collective"))

    # ----- 软弱涣散 ----------------------------------------------------------------
    def rectifications(self, village_id: int) -> list[RectificationData]:
        permissions.require_read(self.actor, village_id, ARCHIVE)
        with self.db.reader() as s:
            return [self._rectification_dto(x) for x in s.scalars(
                select(a.ArchiveRectification).where(a.ArchiveRectification.village_id == village_id)
                .order_by(a.ArchiveRectification.year))]

    @staticmethod
    def _rectification_dto(x: a.ArchiveRectification) -> RectificationData:
        return RectificationData(x.year, [c for c in x.clauses.split("、") if c], x.measures, x.leader,
                                 x.accepted_on, x.score, x.result, x.review_on, x.review_note, x.id)

    def check_rectification(self, data: RectificationData) -> list[FieldProblem]:
        return validation.check_rectification(data.year, data.clauses, data.score, data.result, data.accepted_on,
                                         data.review_on)

    def save_rectification(self, village_id: int, data: RectificationData) -> int:
        """Add or update one 软弱涣散 case; a result left empty is derived from the score and the pass mark."""
        permissions.require_write(self.actor, village_id, ARCHIVE)
        if data.score is not None and not data.result:
            data.result = r.expected_result(data.score, pass_mark())
        problems = self.check_rectification(data)
        if any(p.severity == "error" for p in problems):
            raise ValidationFailed(problems)
        with self.db.unit_of_work(self.actor) as s:
            self._village(s, village_id)
            clash = s.scalar(select(a.ArchiveRectification).where(a.ArchiveRectification.village_id == village_id,
                                                                  a.ArchiveRectification.year == data.year))
            if clash is not None and clash.id != data.id:
                raise ValidationFailed([FieldProblem("year", f"本村{data.year}年已有软弱涣散认定记录")])
            row = s.get(a.ArchiveRectification, data.id) if data.id else None
            if row is None:
                row = a.ArchiveRectification(village_id=village_id)
                s.add(row)
            row.year, row.clauses, row.measures, row.leader = data.year, "、".join(data.clauses), data.measures, data.leader
            row.accepted_on, row.score, row.result = data.accepted_on, data.score, data.result
            row.review_on, row.review_note = data.review_on, data.review_note
            s.flush()
            return row.id

    def delete_rectification(self, rectification_id: int) -> None:
        self._delete_with_attachments(a.ArchiveRectification, rectification_id,
                                      a.ArchiveAttachment.rectification_id == rectification_id)

    # ----- 承诺事项 ----------------------------------------------------------------
    def commitments(self, village_id: int, year: int | None = None) -> list[CommitmentData]:
        permissions.require_read(self.actor, village_id, ARCHIVE)
        with self.db.reader() as s:
            query = select(a.ArchiveCommitment).where(a.ArchiveCommitment.village_id == village_id)
            if year is not None:
                query = query.where(a.ArchiveCommitment.year == year)
            return [CommitmentData(c.year, c.title, c.owner, c.deadline, c.status, c.completed_on, c.id)
                    for c in s.scalars(query.order_by(a.ArchiveCommitment.year, a.ArchiveCommitment.id))]

    def check_commitments(self, year: int, items: Sequence[CommitmentData]) -> list[FieldProblem]:
        problems: list[FieldProblem] = []
        for i, c in enumerate(items):
            if not (c.title or "").strip():
                problems.append(FieldProblem("commitments", f"第{i + 1}行：承诺事项不能为空"))
            problems += [FieldProblem("commitments", f"第{i + 1}行：{p.message}")
                         for p in validation.check_commitment(c.status, c.completed_on)
                         + validation.check_commitment_text(c.title, c.owner)]
        problems += [FieldProblem("commitments", v.message, v.severity)
                     for v in r.check_commitment_counts({year: len(items)})]
        return problems

    def save_commitments(self, village_id: int, year: int, items: Sequence[CommitmentData]) -> list[FieldProblem]:
        """Replace the year's commitments; returns the warnings (e.g. fewer than 3 items)."""
        permissions.require_write(self.actor, village_id, ARCHIVE)
        problems = self.check_commitments(year, items)
        if any(p.severity == "error" for p in problems):
            raise ValidationFailed(problems)
        with self.db.unit_of_work(self.actor) as s:
            self._replace(s, a.ArchiveCommitment, village_id, {"year": year}, items, (), lambda c: dict(
                title=c.title.strip(), owner=c.owner, deadline=c.deadline,
                status=vocab("commitment_status").canonical(c.status), completed_on=c.completed_on))
        return [p for p in problems if p.severity == "warning"]

    def set_commitment_status(self, commitment_id: int, status: str, completed_on: dt.date | None = None) -> None:
        with self.db.unit_of_work(self.actor) as s:
            row = s.get(a.ArchiveCommitment, commitment_id)
            if row is None:
                raise NotFound("这条承诺事项已不存在")
            permissions.require_write(self.actor, row.village_id, ARCHIVE)
            item = CommitmentData(row.year, row.title, row.owner, row.deadline, status, completed_on, row.id)
            errors = [p for p in self.check_commitments(row.year, [item]) if p.severity == "error"]
            if errors:
                raise ValidationFailed(errors)
            row.status, row.completed_on = vocab("commitment_status").canonical(status), completed_on

    # ----- 会议记录 ----------------------------------------------------------------
    def meetings(self, village_id: int, year: int | None = None) -> list[MeetingData]:
        permissions.require_read(self.actor, village_id, ARCHIVE)
        with self.db.reader() as s:
            query = select(a.ArchiveMeeting).where(a.ArchiveMeeting.village_id == village_id)
            if year is not None:
                query = query.where(a.ArchiveMeeting.held_on >= dt.date(year, 1, 1),
                                    a.ArchiveMeeting.held_on <= dt.date(year, 12, 31))
            meetings = list(s.scalars(query.order_by(a.ArchiveMeeting.held_on, a.ArchiveMeeting.id)))
            ids = [x.id for x in meetings]
            names: dict[int, str] = {}
            attendance: dict[int, list[AttendanceData]] = defaultdict(list)
            if ids:
                rows = s.execute(select(a.ArchiveAttendance.meeting_id, a.ArchiveAttendance.party_member_id,
                                        a.ArchiveAttendance.status, a.ArchiveAttendance.reason, m.Person.name)
                                 .join(m.PartyMember, m.PartyMember.id == a.ArchiveAttendance.party_member_id)
                                 .join(m.Person, m.Person.id == m.PartyMember.person_id)
                                 .where(a.ArchiveAttendance.meeting_id.in_(ids))
                                 .order_by(a.ArchiveAttendance.id)).all()
                for mid, pmid, status, reason, name in rows:
                    names[pmid] = name
                    attendance[mid].append(AttendanceData(pmid, status, reason, name))
            return [MeetingData(x.held_on, x.kind, x.topic, x.host, attendance.get(x.id, []), x.id) for x in meetings]

    def save_meeting(self, village_id: int, data: MeetingData) -> int:
        """Add or update a meeting and its attendance list (出席 / 请假 with reason / 缺席)."""
        permissions.require_write(self.actor, village_id, ARCHIVE)
        problems: list[FieldProblem] = []
        if not data.held_on:
            problems.append(FieldProblem("held_on", "请填写会议日期"))
        if vocab("meeting_kind").canonical(data.kind) is None:
            problems.append(FieldProblem("kind", f"会议类型“{data.kind}”不在取值表中"))
        if not (data.topic or "").strip():
            problems.append(FieldProblem("topic", "请填写会议主题"))
        problems += validation.check_meeting_text(data.topic, data.host)
        with self.db.reader() as s:
            members = register_member_ids(s, village_id)
        seen: set[int] = set()
        for item in data.attendance:
            problems += [FieldProblem("attendance", p.message)
                         for p in validation.check_attendee(item.party_member_id, item.name, members)]
            if item.party_member_id in seen:
                problems.append(FieldProblem("attendance", f"{item.name} 在出席名单中出现了两次"))
            seen.add(item.party_member_id)
            problems += [FieldProblem("attendance", p.message)
                         for p in validation.check_attendance(item.status, item.reason, item.name)]
        if problems:
            raise ValidationFailed(problems)
        with self.db.unit_of_work(self.actor) as s:
            self._village(s, village_id)
            row = s.get(a.ArchiveMeeting, data.id) if data.id else None
            if row is not None and row.village_id != village_id:
                raise NotFound("这次会议记录不存在或已删除")  # another village's meeting is not edited through this one
            if row is None:
                row = a.ArchiveMeeting(village_id=village_id)
                s.add(row)
            row.held_on, row.kind, row.topic, row.host = (data.held_on, vocab("meeting_kind").canonical(data.kind),
                                                          data.topic.strip(), data.host)
            existing = {x.party_member_id: x for x in row.attendance}
            for item in data.attendance:
                status = vocab("attendance").canonical(item.status)
                reason = item.reason if status != "出席" else None
                hit = existing.pop(item.party_member_id, None)
                if hit is None:
                    row.attendance.append(a.ArchiveAttendance(party_member_id=item.party_member_id, status=status,
                                                              reason=reason))
                else:
                    hit.status, hit.reason = status, reason
            for gone in existing.values():
                row.attendance.remove(gone)
            s.flush()
            return row.id

    def delete_meeting(self, meeting_id: int) -> None:
        self._delete_with_attachments(a.ArchiveMeeting, meeting_id, a.ArchiveAttachment.meeting_id == meeting_id)

    # ----- 附件 ----------------------------------------------------------------
    def attachments(self, village_id: int) -> list[AttachmentData]:
        permissions.require_read(self.actor, village_id, ARCHIVE)
        with self.db.reader() as s:
            rows = s.execute(select(a.ArchiveAttachment, a.ArchiveFile.size, a.ArchiveFile.suffix)
                             .join(a.ArchiveFile, a.ArchiveFile.sha256 == a.ArchiveAttachment.sha256)
                             .where(a.ArchiveAttachment.village_id == village_id)
                             .order_by(a.ArchiveAttachment.id)).all()
            return [AttachmentData(x.id, x.title, x.sha256, size, suffix, x.year, x.meeting_id, x.rectification_id)
                    for x, size, suffix in rows]

    def add_attachment(self, village_id: int, source: Path | str, *, title: str | None = None,
                       year: int | None = None, meeting_id: int | None = None,
                       rectification_id: int | None = None) -> AttachmentData:
        """Store the file once under its SHA-256 (a second copy only adds a reference)."""
        permissions.require_write(self.actor, village_id, ARCHIVE)
        source = Path(source)
        if not source.is_file():
            raise DomainError(f"找不到文件：{source}")
        size = source.stat().st_size
        if size > MAX_ATTACHMENT_BYTES:
            raise DomainError(f"文件太大（{size // 1024 // 1024} MB），附件最大 {MAX_ATTACHMENT_BYTES // 1024 // 1024} MB")
        digest = hashlib.sha256()
        with open(source, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        sha = digest.hexdigest()
        suffix = source.suffix.lower()[:16]
        target = attachment_file(sha, suffix)
        with self.db.unit_of_work(self.actor) as s:
            self._village(s, village_id)
            for model, row_id in ((a.ArchiveMeeting, meeting_id), (a.ArchiveRectification, rectification_id)):
                owner = s.get(model, row_id) if row_id is not None else None
                if row_id is not None and (owner is None or owner.village_id != village_id):
                    raise DomainError("附件只能挂在本村的会议或软弱涣散记录上，请刷新后重新选择")
            stored = s.get(a.ArchiveFile, sha)
            if stored is None:
                s.add(a.ArchiveFile(sha256=sha, size=size, suffix=suffix))
                s.flush()  # the file row before the reference (no ORM relationship orders them)
            else:
                target = attachment_file(sha, stored.suffix)
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                part = target.with_name(target.name + ".part")
                shutil.copyfile(source, part)
                part.replace(target)
            row = a.ArchiveAttachment(village_id=village_id, sha256=sha, title=title or source.name, year=year,
                                      meeting_id=meeting_id, rectification_id=rectification_id)
            s.add(row)
            s.flush()
            return AttachmentData(row.id, row.title, sha, size, stored.suffix if stored else suffix, year, meeting_id,
                                  rectification_id)

    def attachment_path(self, attachment_id: int) -> Path:
        with self.db.reader() as s:
            row = s.execute(select(a.ArchiveFile.sha256, a.ArchiveFile.suffix, a.ArchiveAttachment.village_id)
                            .join(a.ArchiveAttachment, a.ArchiveAttachment.sha256 == a.ArchiveFile.sha256)
                            .where(a.ArchiveAttachment.id == attachment_id)).first()
        if row is None:
            raise NotFound("这个附件已不存在")
        permissions.require_read(self.actor, row[2], ARCHIVE)
        path = attachment_file(row[0], row[1])
        if not path.exists():
            raise DomainError(f"附件文件丢失：{path.name}（可从备份中恢复数据文件夹的 attachments 目录）")
        return path

    def remove_attachment(self, attachment_id: int) -> None:
        """Remove one reference; the stored file goes with its last reference."""
        with self.db.unit_of_work(self.actor) as s:
            row = s.get(a.ArchiveAttachment, attachment_id)
            if row is None:
                return
            permissions.require_write(self.actor, row.village_id, ARCHIVE)
            released = self._drop_attachments(s, a.ArchiveAttachment.id == attachment_id)
        self._remove_files(released)

    def _delete_with_attachments(self, model: type, row_id: int, attached: Any) -> None:
        """Delete a meeting or 软弱涣散 case with the attachments ``attached`` selects; the stored files
        nothing refers to any more go after the commit. A row already gone is no error."""
        with self.db.unit_of_work(self.actor) as s:
            row = s.get(model, row_id)
            if row is None:
                return
            permissions.require_write(self.actor, row.village_id, ARCHIVE)
            released = self._drop_attachments(s, attached)
            s.delete(row)
        self._remove_files(released)

    @staticmethod
    def _drop_attachments(s: Session, condition: Any) -> list[tuple[str, str]]:
        """Delete matching references; returns the files no reference points to any more (deleted after commit)."""
        rows = list(s.scalars(select(a.ArchiveAttachment).where(condition)))
        hashes = {x.sha256 for x in rows}
        for x in rows:
            s.delete(x)
        s.flush()
        released = []
        for sha in sorted(hashes):
            left = s.scalar(select(func.count()).select_from(a.ArchiveAttachment)
                            .where(a.ArchiveAttachment.sha256 == sha))
            if not left:
                stored = s.get(a.ArchiveFile, sha)
                if stored is not None:
                    released.append((sha, stored.suffix))
                    s.delete(stored)
        return released

    @staticmethod
    def _remove_files(released: list[tuple[str, str]]) -> None:
        for sha, suffix in released:
            try:
                attachment_file(sha, suffix).unlink(missing_ok=True)
            except OSError:
                log.warning("附件文件删除失败：%s", sha)

    # ----- rules over the whole archive --------------------------------------------
    def violations(self, village_id: int | None = None) -> list[RuleViolation]:
        """Every rule violation (errors and warnings) of one village or all villages (a clerk: their own)."""
        if village_id is None:
            village_id = permissions.visible_village(self.actor)
        else:
            permissions.require_read(self.actor, village_id, ARCHIVE)
        found: list[RuleViolation] = []
        with self.db.reader() as s:
            vquery = select(m.Village.id, m.Village.code, m.Village.name).order_by(m.Village.code)
            if village_id is not None:
                vquery = vquery.where(m.Village.id == village_id)
            villages = {vid: (code, name) for vid, code, name in s.execute(vquery)}
            yq = select(a.ArchiveYear)
            cq = select(a.ArchiveCadre)
            kq = select(a.ArchiveCommitment.village_id, a.ArchiveCommitment.year, func.count()).group_by(
                a.ArchiveCommitment.village_id, a.ArchiveCommitment.year)
            rq = select(a.ArchiveRectification)
            if village_id is not None:
                yq = yq.where(a.ArchiveYear.village_id == village_id)
                cq = cq.where(a.ArchiveCadre.village_id == village_id)
                kq = kq.where(a.ArchiveCommitment.village_id == village_id)
                rq = rq.where(a.ArchiveRectification.village_id == village_id)
            years_of: dict[int, set[int]] = defaultdict(set)
            before: dict[tuple[int, int], dict[str, Any]] = {}
            for row in s.scalars(yq.order_by(a.ArchiveYear.village_id, a.ArchiveYear.year)):
                years_of[row.village_id].add(row.year)
                code, name = villages[row.village_id]
                values = before[(row.village_id, row.year)] = year_values(row)
                found += [RuleViolation(code, name, row.year, v.rule_id, v.severity, v.message, v.fields)
                          for v in (*r.check_year(values),
                                    *r.check_carry_over(row.year, values, before.get((row.village_id, row.year - 1))))]
            cadres: dict[int, list[a.ArchiveCadre]] = defaultdict(list)
            for row in s.scalars(cq):
                cadres[row.village_id].append(row)
            names = self._names(s, [c.person_id for rows in cadres.values() for c in rows])
            for vid, rows in sorted(cadres.items()):
                code, name = villages[vid]
                facts = [r.CadreFact(c.person_id, names.get(c.person_id, ""), c.post, c.one_shoulder, c.started_on,
                                     c.ended_on) for c in rows]
                found += [RuleViolation(code, name, None, v.rule_id, v.severity, v.message, v.fields)
                          for v in r.check_cadres(facts)]
            counts: dict[int, dict[int, int]] = defaultdict(dict)
            for vid, year, count in s.execute(kq):
                counts[vid][year] = count
            for vid in sorted(set(years_of) | set(counts)):
                code, name = villages[vid]
                per_year = {y: counts[vid].get(y, 0) for y in years_of.get(vid, set()) | set(counts[vid])}
                found += [RuleViolation(code, name, v.year, v.rule_id, v.severity, v.message, v.fields)
                          for v in r.check_commitment_counts(per_year)]
            mark = pass_mark()
            for row in s.scalars(rq):
                code, name = villages[row.village_id]
                found += [RuleViolation(code, name, row.year, v.rule_id, v.severity, v.message, v.fields)
                          for v in r.check_rectification(row.year, row.score, row.result, mark)]
        return found

    # ----- set-based writes (imports, packages) -------------------------------
    def batch_writer(self, conn: Connection, *, batch_id: int | None = None, reason: str | None = None,
                     now: dt.datetime | None = None) -> ArchiveBatch:
        """The archives' door for set-based writes (imports, packages): see ``ModuleBatch.open``."""
        return ArchiveBatch.open(conn, self.actor, ARCHIVE, batch_id=batch_id, reason=reason, now=now)

    # ----- township overview ---------------------------------------------------
    def overview(self) -> list[OverviewRow]:
        """Villages with their latest year's key figures and how many rules they break."""
        with self.db.reader() as s:
            villages = s.execute(select(m.Village.id, m.Village.code, m.Village.name).order_by(m.Village.code)).all()
            latest: dict[int, tuple] = {}
            for row in s.execute(select(a.ArchiveYear.village_id, a.ArchiveYear.year, a.ArchiveYear.total_income,
                                        a.ArchiveYear.business_income, a.ArchiveYear.debt_closing,
                                        a.ArchiveYear.creation_level).order_by(a.ArchiveYear.year)):
                latest[row[0]] = tuple(row[1:])
            open_cases = set(s.scalars(select(a.ArchiveRectification.village_id)
                                       .where((a.ArchiveRectification.result.is_(None))
                                              | (a.ArchiveRectification.result != "通过"))))
        visible = permissions.visible_village(self.actor)
        tally: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for v in self.violations(visible):
            tally[v.village_code][0 if v.severity == "error" else 1] += 1
        rows = []
        for vid, code, name in villages:
            if visible is not None and vid != visible:
                continue
            year, total, business, debt, level = latest.get(vid, (None,) * 5)
            errors, warnings = tally.get(code, [0, 0])
            rows.append(OverviewRow(vid, code, name, year, total, business, debt, level, vid in open_cases,
                                    errors, warnings))
        return rows


class ArchiveBatch(ModuleBatch):
    """Set-based writes of the archive's tables, each audited per record (see ``db/batch.py``).

    Only ``ArchiveService.batch_writer`` makes one, after its role check; the import
    adapters turn rows into records and hand them here.
    """

    models = (a.ArchiveProfile, a.ArchiveYear, a.ArchiveCooperative, a.ArchiveTerm, a.ArchiveCadre,
              a.ArchiveFirstSecretary, a.ArchiveTalent, a.ArchivePay, a.ArchiveCentre, a.ArchiveRectification,
              a.ArchiveCommitment, a.ArchiveMeeting, a.ArchiveAttendance)

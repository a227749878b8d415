"""Village archive (一村一档) tables: yearly figures, people in posts, ledgers and attachments.

Money is integer 分 (BigInteger, so assets of a large village fit on any
database); areas and scores are exact decimals. People in posts link to the
registry's ``person`` and meeting attendance to ``party_member``, so nothing
is typed twice and the points module can turn attendance into points.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from townapp.db.base import Base, SyncedMixin, utcnow


class ArchiveProfile(SyncedMixin, Base):
    """村情概况 of one village in one year (party-member counts come from the registry)."""

    __tablename__ = "archive_profile"
    __table_args__ = (UniqueConstraint("village_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    group_count: Mapped[int | None]  # 村民小组数
    natural_villages: Mapped[int | None]  # 自然村数
    registered_households: Mapped[int | None]  # 户籍户数
    registered_population: Mapped[int | None]  # 户籍人口
    resident_households: Mapped[int | None]  # 常住户数
    resident_population: Mapped[int | None]  # 常住人口
    farmland_mu: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))  # 耕地面积（亩）
    party_org_name: Mapped[str | None] = mapped_column(String(100))
    party_org_kind: Mapped[str | None] = mapped_column(String(8))  # 党委 / 党总支 / 党支部


class ArchiveYear(SyncedMixin, Base):
    """One village's yearly figures: 集体经济, 村级债务, 运转经费, 创建等级 and the pay inputs of the year."""

    __tablename__ = "archive_year"
    __table_args__ = (UniqueConstraint("village_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    # 集体经济（分）
    operating_income: Mapped[int | None] = mapped_column(BigInteger)  # 经营收入
    contract_income: Mapped[int | None] = mapped_column(BigInteger)  # 发包及上交收入
    investment_income: Mapped[int | None] = mapped_column(BigInteger)  # 投资收益
    subsidy_income: Mapped[int | None] = mapped_column(BigInteger)  # 补助收入
    other_income: Mapped[int | None] = mapped_column(BigInteger)  # 其他收入
    total_income: Mapped[int | None] = mapped_column(BigInteger)  # 总收入
    business_income: Mapped[int | None] = mapped_column(BigInteger)  # 经营性收入（不含补助）
    total_expense: Mapped[int | None] = mapped_column(BigInteger)  # 总支出
    net_income: Mapped[int | None] = mapped_column(BigInteger)  # 本年收益
    total_assets: Mapped[int | None] = mapped_column(BigInteger)  # 资产总额
    income_target: Mapped[int | None] = mapped_column(BigInteger)  # 年度目标（经营性收入）
    # 村级债务（分）
    debt_opening: Mapped[int | None] = mapped_column(BigInteger)
    debt_new: Mapped[int | None] = mapped_column(BigInteger)
    debt_resolved: Mapped[int | None] = mapped_column(BigInteger)
    debt_closing: Mapped[int | None] = mapped_column(BigInteger)
    debt_causes: Mapped[str | None] = mapped_column(String(400))
    debt_plan: Mapped[str | None] = mapped_column(String(400))
    # 运转经费（分）
    funding_standard: Mapped[int | None] = mapped_column(BigInteger)
    funding_received: Mapped[int | None] = mapped_column(BigInteger)
    # 创建等级 and the inputs of 以星定酬 until the evaluations provide them
    creation_level: Mapped[str | None] = mapped_column(String(4))  # 规范 / 示范 / 典范
    org_star: Mapped[int | None]  # 村党组织星级
    secretary_star: Mapped[int | None]  # 书记星级
    designated: Mapped[bool] = mapped_column(Boolean, default=False)  # 享受补贴的重点村
    rated: Mapped[str | None] = mapped_column(Text)  # JSON {field: 来源} of the fields 定级 wrote (stars, level)


class ArchiveCooperative(SyncedMixin, Base):
    """村党组织领办合作社 in one year."""

    __tablename__ = "archive_cooperative"
    __table_args__ = (UniqueConstraint("village_id", "year", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    members: Mapped[int | None]
    income_to_collective: Mapped[int | None] = mapped_column(BigInteger)  # 分


class ArchiveTerm(SyncedMixin, Base):
    """换届: 届次, 本届起止, 完成与否."""

    __tablename__ = "archive_term"
    __table_args__ = (UniqueConstraint("village_id", "term_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id", ondelete="CASCADE"), index=True)
    term_no: Mapped[int] = mapped_column(Integer)
    starts_on: Mapped[dt.date | None]
    ends_on: Mapped[dt.date | None]
    completed: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(String(200))
    # which of the dates above are known only to the month (任职时间 2021.03): core.dates.MONTH_DATES
    month_dates: Mapped[str | None] = mapped_column(String(64))


class ArchiveCadre(SyncedMixin, Base):
    """A 两委 post held by a registry person from ``started_on`` to ``ended_on`` (None: still in post)."""

    __tablename__ = "archive_cadre"

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    post: Mapped[str] = mapped_column(String(16))
    one_shoulder: Mapped[bool] = mapped_column(Boolean, default=False)  # 书记、主任一肩挑
    started_on: Mapped[dt.date | None]
    ended_on: Mapped[dt.date | None]
    term_no: Mapped[int | None]
    # which of the dates above are known only to the month (任职时间 2021.03): core.dates.MONTH_DATES
    month_dates: Mapped[str | None] = mapped_column(String(64))


class ArchiveFirstSecretary(SyncedMixin, Base):
    """第一书记 sent by a unit (usually not a villager, so a name, not a registry person)."""

    __tablename__ = "archive_first_secretary"

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    unit: Mapped[str | None] = mapped_column(String(100))  # 派出单位
    started_on: Mapped[dt.date | None]
    ended_on: Mapped[dt.date | None]
    phone: Mapped[str | None] = mapped_column(String(32))
    # which of the dates above are known only to the month (任职时间 2021.03): core.dates.MONTH_DATES
    month_dates: Mapped[str | None] = mapped_column(String(64))


class ArchiveTalent(SyncedMixin, Base):
    """人才: 后备干部, 乡村振兴专员 and the 在外优秀人才库, one table told apart by ``kind``."""

    __tablename__ = "archive_talent"

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # 后备干部 / 振兴专员 / 在外人才
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    birth_date: Mapped[dt.date | None]
    education: Mapped[str | None] = mapped_column(String(16))
    measures: Mapped[str | None] = mapped_column(String(400))  # 培养措施
    arrived_on: Mapped[dt.date | None]  # 到岗日期（振兴专员）
    workplace: Mapped[str | None] = mapped_column(String(100))  # 外出地
    industry: Mapped[str | None] = mapped_column(String(64))
    contact: Mapped[str | None] = mapped_column(String(64))  # 联系人
    return_intent: Mapped[str | None] = mapped_column(String(8))  # 回引意向 有/无/待定
    returned: Mapped[bool] = mapped_column(Boolean, default=False)  # 已回村任职
    phone: Mapped[str | None] = mapped_column(String(32))
    # which of the dates above are known only to the month (出生年月 1990.05): core.dates.MONTH_DATES
    month_dates: Mapped[str | None] = mapped_column(String(64))


class ArchivePay(SyncedMixin, Base):
    """One cadre's pay inputs for a year: post, months in post, 考核等级; the amounts are computed."""

    __tablename__ = "archive_pay"
    __table_args__ = (UniqueConstraint("village_id", "year", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    post: Mapped[str] = mapped_column(String(16))
    months: Mapped[int] = mapped_column(Integer, default=12)
    grade: Mapped[str | None] = mapped_column(String(8))  # 优秀 / 称职 / 基本称职 / 不称职
    grade_source: Mapped[str | None] = mapped_column(String(200))  # set when the 书记's annual result wrote it


class ArchiveCentre(SyncedMixin, Base):
    """党群服务中心 (one per village)."""

    __tablename__ = "archive_centre"

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id", ondelete="CASCADE"), unique=True)
    address: Mapped[str | None] = mapped_column(String(200))
    area_m2: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    built_year: Mapped[int | None]
    rooms: Mapped[str | None] = mapped_column(String(400))  # 功能室, separated by 、


class ArchiveRectification(SyncedMixin, Base):
    """软弱涣散: 认定 → 整顿 → 验收 → 回头看. A village may be listed again in a later year."""

    __tablename__ = "archive_rectification"
    __table_args__ = (UniqueConstraint("village_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column(Integer)  # 认定年度
    clauses: Mapped[str] = mapped_column(String(400))  # 认定条款 codes, separated by 、
    measures: Mapped[str | None] = mapped_column(Text)  # 整顿措施
    leader: Mapped[str | None] = mapped_column(String(64))  # 包联领导
    accepted_on: Mapped[dt.date | None]  # 验收日期
    score: Mapped[Decimal | None] = mapped_column(Numeric(5, 1))
    result: Mapped[str | None] = mapped_column(String(8))  # 通过 / 未通过
    review_on: Mapped[dt.date | None]  # 回头看日期
    review_note: Mapped[str | None] = mapped_column(String(400))


class ArchiveCommitment(SyncedMixin, Base):
    """为民办实事公开承诺: 3–5 items a year."""

    __tablename__ = "archive_commitment"

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    title: Mapped[str] = mapped_column(String(200))
    owner: Mapped[str | None] = mapped_column(String(64))  # 责任人
    deadline: Mapped[dt.date | None]
    status: Mapped[str] = mapped_column(String(8), default="未开始")
    completed_on: Mapped[dt.date | None]


class ArchiveMeeting(SyncedMixin, Base):
    """三会一课 / 主题党日 record; attendance rows say who came, who asked leave and why."""

    __tablename__ = "archive_meeting"

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id", ondelete="CASCADE"), index=True)
    held_on: Mapped[dt.date] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(16))
    topic: Mapped[str] = mapped_column(String(200))
    host: Mapped[str | None] = mapped_column(String(64))  # 主持人

    attendance: Mapped[list[ArchiveAttendance]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan", order_by="ArchiveAttendance.id")


class ArchiveAttendance(Base):
    """One party member at one meeting: 出席 / 请假 (with reason) / 缺席 — what points read."""

    __tablename__ = "archive_attendance"
    __table_args__ = (UniqueConstraint("meeting_id", "party_member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("archive_meeting.id", ondelete="CASCADE"), index=True)
    party_member_id: Mapped[int] = mapped_column(ForeignKey("party_member.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(4))  # 出席 / 请假 / 缺席
    reason: Mapped[str | None] = mapped_column(String(200))

    meeting: Mapped[ArchiveMeeting] = relationship(back_populates="attendance")


class ArchiveFile(Base):
    """A stored file, named by its SHA-256 in the data folder's attachments/; kept once however often attached."""

    __tablename__ = "archive_file"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    suffix: Mapped[str] = mapped_column(String(16), default="")
    stored_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ArchiveAttachment(SyncedMixin, Base):
    """A reference to a stored file from a village, and optionally a year, a meeting or a rectification."""

    __tablename__ = "archive_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id", ondelete="CASCADE"), index=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("archive_file.sha256"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    year: Mapped[int | None]
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("archive_meeting.id", ondelete="CASCADE"), index=True)
    rectification_id: Mapped[int | None] = mapped_column(
        ForeignKey("archive_rectification.id", ondelete="CASCADE"), index=True)

"""Registry tables. Natural keys: 区划代码 (village), 身份证号 (person), 户编号 (household)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from townapp.db.base import Base, SyncedMixin


class Township(SyncedMixin, Base):
    """A township; a county database holds many, a township database one."""

    __tablename__ = "township"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(64))


class Village(SyncedMixin, Base):
    __tablename__ = "village"

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("township.id"), index=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(8), default="村")
    name_initials: Mapped[str] = mapped_column(String(64), default="", index=True)

    groups: Mapped[list[VillageGroup]] = relationship(back_populates="village", cascade="all, delete-orphan",
                                                      order_by="VillageGroup.id")


class VillageGroup(SyncedMixin, Base):
    """村民小组."""

    __tablename__ = "village_group"
    __table_args__ = (UniqueConstraint("village_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(32))

    village: Mapped[Village] = relationship(back_populates="groups")


class Person(SyncedMixin, Base):
    __tablename__ = "person"
    # the people list is ordered by (initials, name): these indexes give that order without sorting
    __table_args__ = (
        Index("ix_person_initials_name", "name_initials", "name"),
        Index("ix_person_village_initials_name", "village_id", "name_initials", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    id_number: Mapped[str] = mapped_column(String(18), unique=True)
    # the ID reversed, so an "ends with" search is an indexed prefix range
    id_number_rev: Mapped[str] = mapped_column(String(18), index=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    name_initials: Mapped[str] = mapped_column(String(32))
    sex: Mapped[str] = mapped_column(String(2))
    birth_date: Mapped[dt.date]
    ethnicity: Mapped[str] = mapped_column(String(16), default="汉族")
    education: Mapped[str | None] = mapped_column(String(16))
    phone: Mapped[str | None] = mapped_column(String(32))
    village_id: Mapped[int | None] = mapped_column(ForeignKey("village.id"))
    note: Mapped[str | None] = mapped_column(String(400))


class Household(SyncedMixin, Base):
    __tablename__ = "household"
    __table_args__ = (UniqueConstraint("village_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"), index=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("village_group.id", ondelete="SET NULL"), index=True)
    number: Mapped[str] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(String(400))

    members: Mapped[list[HouseholdMember]] = relationship(back_populates="household", cascade="all, delete-orphan",
                                                          order_by="HouseholdMember.position")


class HouseholdMember(Base):
    """A person belongs to at most one household (unique person_id)."""

    __tablename__ = "household_member"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), unique=True)
    relation: Mapped[str] = mapped_column(String(8))
    position: Mapped[int] = mapped_column(default=0)

    household: Mapped[Household] = relationship(back_populates="members")
    person: Mapped[Person] = relationship()


class PartyBranch(SyncedMixin, Base):
    """党委 / 党总支 / 党支部 / 党小组 in one tree."""

    __tablename__ = "party_branch"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(8))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("party_branch.id"), index=True)
    village_id: Mapped[int | None] = mapped_column(ForeignKey("village.id"), index=True)


# PartyMember's dates that a roster may give as a month only (入党时间 1978.02): marked in ``month_dates``
PARTY_MONTH_DATES = ("joined_on", "confirmed_on", "status_date", "mobility_since")


class PartyMember(SyncedMixin, Base):
    __tablename__ = "party_member"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), unique=True)
    member_type: Mapped[str] = mapped_column(String(8))  # 正式党员 / 预备党员
    joined_on: Mapped[dt.date | None]  # 入党日期
    confirmed_on: Mapped[dt.date | None]  # 转正日期
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("party_branch.id"), index=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("party_branch.id"))
    party_post: Mapped[str | None] = mapped_column(String(32))  # 党内职务
    status: Mapped[str] = mapped_column(String(8), default="正常")  # 党籍状态
    status_date: Mapped[dt.date | None]
    mobility: Mapped[str] = mapped_column(String(4), default="在村")  # 在村 / 流动 / 失联
    mobility_since: Mapped[dt.date | None]
    destination: Mapped[str | None] = mapped_column(String(100))  # 流动去向
    points_category: Mapped[str] = mapped_column(String(4), default="无职")
    duty_post: Mapped[str | None] = mapped_column(String(64))  # 设岗定责岗位
    # which of the dates above are known only to the month (入党时间 1978.02): core.dates.MONTH_DATES
    month_dates: Mapped[str | None] = mapped_column(String(64))

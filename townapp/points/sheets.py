"""The points module's sheets for the exchange: 积分规则, 积分记录, 积分超市商品, 积分兑换记录.

Villages send records in Excel (积分记录): each row is matched by 身份证号, 规则编码,
发生日期 and 事项说明, checked against the year's rules exactly as the entry
screen checks them, and saved as 待村审 — the file goes through the same review
and 公示 as typed records. Sending the same file again changes nothing. Rules
and redemptions are exported for reading; they are changed in the program
(rules are versioned, redemptions move balances), so an import only confirms
unchanged rows and reports changed ones. These specs are not part of the
county sync package.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Select, extract, func, select

from townapp.core import permissions
from townapp.core.actor import SYSTEM_ACTOR, Actor
from townapp.core.errors import PermissionDenied
from townapp.core.text import clean_name
from townapp.county.copies import ReportedAdapter, first_reported_year
from townapp.db import Database
from townapp.exchange import spec as s
from townapp.exchange.pipeline import run_import
from townapp.exchange.report import ImportReport
from townapp.exchange.spec import ColumnSpec, ImportContext, Row, SheetAdapter, SheetSpec
from townapp.exchange.template import write_template
from townapp.exchange.writer import export_sheets
from townapp.outputs.figures import Period
from townapp.points import models as p
from townapp.points.rules import (
    RuleSet,
    default_rule_set,
    format_points,
    from_canonical,
)
from townapp.points.service import DEFAULT_NOTE, PointsBatch, PointsService, record_values, rule_rows
from townapp.points.validation import check_item, check_member, check_member_scope, check_occurrence
from townapp.registry import models as m
from townapp.registry.sheets import refuse_unknown_person

POINTS_PATTERN = r"[+-]?\d{1,5}(\.\d)?"
_ID = ColumnSpec("id_number", "身份证号", s.ID_NUMBER, aliases=("身份证号码", "公民身份号码"), required=True,
                 example="140821198506010123", width=20)
_NAME = ColumnSpec("name", "姓名", s.NAME, aliases=("党员姓名",), example="张三", width=10, note="核对用，以身份证号为准")


def _rule_set(conn: Connection, year: int, cache: dict[int, tuple[int | None, RuleSet]]) -> tuple[int | None, RuleSet]:
    if year not in cache:
        row = conn.execute(select(p.PointRuleSet.id, p.PointRuleSet.definition).where(p.PointRuleSet.year == year)
                           .order_by(p.PointRuleSet.version.desc()).limit(1)).first()
        cache[year] = (row[0], from_canonical(row[1])) if row else (None, default_rule_set())
    return cache[year]


def _door(conn: Connection, ctx: ImportContext) -> PointsBatch:
    """The points service's set-based writer for this import: the adapters never write themselves."""
    return PointsService(ctx.db, ctx.actor).batch_writer(conn, batch_id=ctx.batch_id, reason=ctx.reason, now=ctx.now)


def _refuse(rows: Sequence[Row], refused: set[int], ctx: ImportContext) -> None:
    """Rows the service would not write for this account (another village's records, the township's goods)."""
    for index in sorted(refused):
        ctx.error(rows[index], None, "not_permitted", s.NOT_PERMITTED_MESSAGE)


# a problem of points/validation.py → the column of the 积分记录 sheet it is about, and the error code
_RECORD_COLUMNS = {"member_ids": ("id_number", "rule"), "rule_code": ("rule_code", "unknown_rule"),
                   "occurred_on": ("occurred_on", "rule"), "points": ("points", "bad_number"),
                   "evidence": ("evidence", "required")}


def _own_village_only(query: Select, actor: Actor, village_column: Any, village_id: int | None = None) -> Select:
    """A clerk's export holds only their village's rows: the row's village and the person's present one.

    ``village_id`` (export_sheets for a clerk) limits the rows the same way whatever the adapter's actor.
    """
    for village in {permissions.visible_village(actor), village_id} - {None}:
        query = query.where(village_column == village, m.Person.village_id == village)
    return query


class RecordAdapter(SheetAdapter):
    """积分记录 rows become 待村审 records; a row already recorded is 不变."""

    entity = "point_record"
    village_scoped = True

    def __init__(self, actor: Actor = SYSTEM_ACTOR) -> None:
        self.actor = actor

    def match(self, conn: Connection, rows: list[Row], ctx: ImportContext) -> None:
        numbers = sorted({r.get("id_number") for r in rows if r.get("id_number")})
        members: dict[str, tuple] = {}
        for start in range(0, len(numbers), 500):
            for r in conn.execute(select(m.Person.id_number, m.PartyMember.id, m.Person.village_id,
                                         m.PartyMember.points_category, m.PartyMember.status, m.Person.name)
                                  .join(m.PartyMember, m.PartyMember.person_id == m.Person.id)
                                  .where(m.Person.id_number.in_(numbers[start:start + 500]))):
                members[r[0]] = tuple(r[1:])
        cache: dict[int, tuple[int | None, RuleSet]] = ctx.shared.setdefault("point_rule_sets", {})
        for row in rows:
            if row.failed:
                continue
            member = members.get(row.get("id_number"))
            if member is None:
                refuse_unknown_person(ctx, row, "id_number", row.get("id_number"), "身份证号不是已登记的党员：请先在“人员/党员”中登记")
                continue
            member_id, village_id, category, status, name = member
            scope = check_member_scope(name, village_id, self.actor)
            if scope or not permissions.can_write(self.actor):
                ctx.error(row, "id_number", "permission", scope[0].message if scope else "当前账号为只读，不能录入积分")
                continue
            on: dt.date = row.get("occurred_on")
            _rid, rules = _rule_set(conn, on.year, cache)
            code = str(row.get("rule_code") or "").upper()
            rule = rules.rule(code)
            problems = [] if rule is None else check_member(rule, name, category, status)
            raw = row.get("points")  # the sign comes from the rule (加分/扣分): "-2" means 2 points off
            tenths, more = check_occurrence(rule, code, on, row.get("evidence"),
                                            None if raw in (None, "") else str(raw).lstrip("+-"))
            problems += more
            if problems:
                column, code_ = _RECORD_COLUMNS.get(problems[0].field, (None, "rule"))
                ctx.error(row, column, code_, problems[0].message)
                continue
            assert rule is not None and tenths is not None
            note = row.get("note") or None
            existing = conn.execute(select(p.PointRecord.id).where(
                p.PointRecord.party_member_id == member_id, p.PointRecord.rule_code == code,
                p.PointRecord.occurred_on == on, p.PointRecord.status != "驳回",
                (p.PointRecord.note == note) if note else p.PointRecord.note.is_(None))).first()
            if existing is not None:
                row.entity_id, row.action = existing[0], "unchanged"
                continue
            row.action = "created"
            row.data.update(member_id=member_id, village_id=village_id, rule=rule, rules=rules, year=on.year,
                            tenths=rule.sign * tenths, note=note, evidence=row.get("evidence") or None)

    def apply(self, conn: Connection, rows: list[Row], ctx: ImportContext) -> None:
        cache: dict[int, tuple[int | None, RuleSet]] = ctx.shared.setdefault("point_rule_sets", {})
        created = [row for row in rows if not row.failed and row.action == "created"]
        if not created:
            return
        door = _door(conn, ctx)
        rule_ids: dict[int, dict[str, int]] = {}
        records = []
        for row in created:
            year, rule, rules = row.data["year"], row.data["rule"], row.data["rules"]
            rule_set_id, _ = _rule_set(conn, year, cache)
            if rule_set_id is None:
                rule_set_id = door.store_default_rule_set(year, f"{DEFAULT_NOTE}（Excel导入）")
                cache[year] = (rule_set_id, rules)
            if rule_set_id not in rule_ids:
                rule_ids[rule_set_id] = dict(conn.execute(select(p.PointRule.code, p.PointRule.id)
                                                          .where(p.PointRule.rule_set_id == rule_set_id)).all())
            records.append(record_values(rules, rule, rule_set_id, rule_ids[rule_set_id].get(rule.code),
                                         row.data["member_id"], row.data["village_id"], row.get("occurred_on"),
                                         row.data["tenths"], row.data["note"], row.data["evidence"], None,
                                         ctx.actor.username))
        ids, refused = door.add_records(records, "Excel导入")
        for row, record_id in zip(created, ids, strict=True):
            row.entity_id = record_id
        _refuse(created, refused, ctx)

    def export_rows(self, conn: Connection, township_code: str | None,
                    village_id: int | None = None) -> Iterator[dict[str, Any]]:
        query = (select(p.PointRecord, m.Person.id_number, m.Person.name, m.Village.code.label("vcode"),
                        m.Village.name.label("vname"))
                 .join(m.PartyMember, m.PartyMember.id == p.PointRecord.party_member_id)
                 .join(m.Person, m.Person.id == m.PartyMember.person_id)
                 .outerjoin(m.Village, m.Village.id == p.PointRecord.village_id)
                 # natural keys, then what the row shows: two records of one rule on one day keep their order
                 .order_by(m.Village.code, m.Person.id_number, p.PointRecord.occurred_on, p.PointRecord.rule_code,
                           p.PointRecord.points_tenths, p.PointRecord.note, p.PointRecord.evidence,
                           p.PointRecord.status, p.PointRecord.uuid))
        for r in conn.execute(_own_village_only(query, self.actor, p.PointRecord.village_id, village_id)).mappings():
            yield {"village_name": r["vname"], "id_number": r["id_number"], "name": r["name"],
                   "rule_code": r["rule_code"], "rule_name": r["rule_name"], "occurred_on": r["occurred_on"],
                   "points": format_points(abs(r["points_tenths"])), "direction": r["direction"], "note": r["note"],
                   "evidence": r["evidence"], "status": r["status"]}

    def delete(self, conn: Connection, ids: list[int], ctx: ImportContext) -> None:
        """Records are never deleted (corrections are reversals); county replacement does not apply to them."""
        return None


class ItemAdapter(SheetAdapter):
    """积分超市商品 by name: new goods are added, changed price/stock/pickup/active updated."""

    entity = "point_store_item"
    village_scoped = True

    def match(self, conn: Connection, rows: list[Row], ctx: ImportContext) -> None:
        # matched by the name as the dialog cleans it, whatever spelling is stored (the demo's or an older import's)
        existing = {clean_name(r.name): dict(r._mapping) for r in conn.execute(select(p.StoreItem))}
        try:  # the 积分超市 dialog's rule: goods are the township's
            permissions.require_township(ctx.actor, "维护积分超市商品")
        except PermissionDenied as exc:
            for row in rows:
                ctx.error(row, None, "not_permitted", exc.message)
            return
        for row in rows:
            if row.failed:
                continue
            name, tenths, problems = check_item(row.get("name"), row.get("points"), row.get("stock") or 0)
            if problems:  # the rules of the 积分超市 dialog (points/validation.py)
                ctx.error(row, problems[0].field, "rule", problems[0].message)
                continue
            values = {"name": name, "points_tenths": tenths}
            if row.has("stock"):
                values["stock"] = row.get("stock") or 0
            if row.has("pickup_point"):
                values["pickup_point"] = row.get("pickup_point")
            if row.has("active"):
                values["active"] = row.get("active") != "下架"
            hit = existing.get(name)
            row.data["values"] = values
            if hit is None:
                values.setdefault("stock", 0)
                values.setdefault("active", True)
                row.action = "created"
                continue
            row.entity_id = hit["id"]
            row.data["changes"] = {k: v for k, v in values.items() if k != "name" and hit.get(k) != v}
            row.action = "updated" if row.data["changes"] else "unchanged"

    def apply(self, conn: Connection, rows: list[Row], ctx: ImportContext) -> None:
        """Goods are the township's: a 村录入员's rows are refused by the door, row by row."""
        created = [row for row in rows if not row.failed and row.action == "created"]
        updated = [row for row in rows if not row.failed and row.action == "updated"]
        if not created and not updated:
            return
        door = _door(conn, ctx)
        fields = ("name", "points_tenths", "stock", "pickup_point", "active")
        ids, refused = door.add_items([{k: row.data["values"].get(k) for k in fields} for row in created])
        for row, item_id in zip(created, ids, strict=True):
            row.entity_id = item_id
        _refuse(created, refused, ctx)
        refused = door.change_items([{"id": row.entity_id, **row.data["changes"]} for row in updated])
        _refuse(updated, {i for i, row in enumerate(updated) if row.entity_id in refused}, ctx)

    def export_rows(self, conn: Connection, township_code: str | None,
                    village_id: int | None = None) -> Iterator[dict[str, Any]]:
        """Goods are township-wide and hold no one's data: the same for every village."""
        for r in conn.execute(select(p.StoreItem).order_by(p.StoreItem.name)).mappings():
            yield {"name": r["name"], "points": format_points(r["points_tenths"]), "stock": r["stock"],
                   "pickup_point": r["pickup_point"], "active": "在售" if r["active"] else "下架"}

    def delete(self, conn: Connection, ids: list[int], ctx: ImportContext) -> None:
        return None


class _ReadOnlyAdapter(SheetAdapter):
    """Rows that are changed only in the program: an import confirms identical rows and reports others."""

    what = ""
    key_fields: tuple[str, ...] = ()

    def key(self, values: dict[str, Any]) -> tuple:
        return tuple(str(values.get(k) or "") for k in self.key_fields)

    def match(self, conn: Connection, rows: list[Row], ctx: ImportContext) -> None:
        known = {self.key(r): r for r in self.export_rows(conn, None)}
        for row in rows:
            if row.failed:
                continue
            hit = known.get(self.key(row.values))
            if hit is not None and all(str(hit.get(k) or "") == str(v or "") for k, v in row.values.items()):
                row.action = "unchanged"
                row.entity_id = 0
            else:
                ctx.error(row, None, "read_only", f"{self.what}只能在程序中修改，表格中的这一行与程序中的不一致")

    def apply(self, conn: Connection, rows: list[Row], ctx: ImportContext) -> None:
        return None

    def delete(self, conn: Connection, ids: list[int], ctx: ImportContext) -> None:
        return None


class RuleAdapter(_ReadOnlyAdapter):
    entity = "point_rule"
    village_scoped = True
    what = "积分规则（规则按版本保存）"
    key_fields = ("year", "code")

    def export_rows(self, conn: Connection, township_code: str | None,
                    village_id: int | None = None) -> Iterator[dict[str, Any]]:
        """Rules are township-wide and hold no one's data: the same for every village."""
        latest: dict[int, tuple[int, str]] = {}
        for year, version, definition in conn.execute(select(p.PointRuleSet.year, p.PointRuleSet.version,
                                                             p.PointRuleSet.definition)):
            if year not in latest or version > latest[year][0]:
                latest[year] = (version, definition)
        for year in sorted(latest):
            version, definition = latest[year]
            for r in rule_rows(from_canonical(definition)):
                yield {"year": year, "version": version, "code": r.code, "name": r.name, "category": r.category_path,
                       "direction": r.direction, "points": r.points_text, "caps": r.caps_text,
                       "category_caps": r.category_cap_text, "evidence": "是" if r.evidence else "否",
                       "review": r.review, "applies_to": r.applies_to, "meeting": r.meeting}


class RedemptionAdapter(_ReadOnlyAdapter):
    entity = "point_redemption"
    village_scoped = True
    what = "积分兑换记录（兑换会改变余额和库存）"
    key_fields = ("number",)

    def __init__(self, actor: Actor = SYSTEM_ACTOR) -> None:
        self.actor = actor

    def export_rows(self, conn: Connection, township_code: str | None,
                    village_id: int | None = None) -> Iterator[dict[str, Any]]:
        query = (select(p.Redemption, m.Person.id_number, m.Person.name)
                 .join(m.PartyMember, m.PartyMember.id == p.Redemption.party_member_id)
                 .join(m.Person, m.Person.id == m.PartyMember.person_id).order_by(p.Redemption.number))
        for r in conn.execute(_own_village_only(query, self.actor, p.Redemption.village_id, village_id)).mappings():
            yield {"number": r["number"], "id_number": r["id_number"], "name": r["name"], "item": r["item_name"],
                   "quantity": r["quantity"], "points": format_points(r["points_tenths"]), "status": r["status"],
                   "redeemed_on": r["redeemed_at"].date(), "cancel_reason": r["cancel_reason"]}


def sheet_specs(actor: Actor = SYSTEM_ACTOR) -> list[SheetSpec]:
    """积分规则, 积分记录, 积分超市商品, 积分兑换记录 (``actor`` limits which villages' records may be imported)."""
    return [
        SheetSpec(
            key="point_rule", title="积分规则", aliases=("党员积分规则", "积分标准"), adapter=RuleAdapter(),
            description="各年度当前版本的积分规则，供核对；规则在程序“积分规则”中修改，修改会生成新版本。",
            columns=(ColumnSpec("year", "年度", s.INT, required=True, example=2026, width=8),
                     ColumnSpec("version", "版本", s.INT, width=6),
                     ColumnSpec("code", "规则编码", s.CODE, required=True, signature=True, example="ZZ05", width=10),
                     ColumnSpec("name", "积分事项", s.TEXT, width=30),
                     ColumnSpec("category", "所属类别", s.TEXT, width=18),
                     ColumnSpec("direction", "加扣分", s.TEXT, width=8),
                     ColumnSpec("points", "分值", s.TEXT, width=8, signature=True),
                     ColumnSpec("caps", "周期封顶", s.TEXT, width=22),
                     ColumnSpec("category_caps", "类别封顶", s.TEXT, width=26),
                     ColumnSpec("evidence", "须佐证", s.TEXT, width=8),
                     ColumnSpec("review", "审核层级", s.TEXT, width=8),
                     ColumnSpec("applies_to", "适用党员", s.TEXT, width=14),
                     ColumnSpec("meeting", "会议出席计分", s.TEXT, width=20)),
            key_columns=("year", "code")),
        SheetSpec(
            key="point_record", title="积分记录", aliases=("党员积分记录", "积分录入", "积分明细"),
            adapter=RecordAdapter(actor),
            description="村里报送的党员积分，每人每事一行；导入后为“待村审”，经审核、公示后生效。同一文件重复导入不会重复记分。",
            columns=(ColumnSpec("village_name", "所属村", s.NAME, aliases=("村/社区", "村"), width=12, note="核对用"),
                     _ID, _NAME,
                     ColumnSpec("rule_code", "规则编码", s.CODE, aliases=("积分规则编码", "编码"), required=True,
                                example="ZY01", width=10, signature=True, note="见“积分规则”表"),
                     ColumnSpec("rule_name", "积分事项", s.TEXT, width=26, note="核对用，以规则编码为准"),
                     ColumnSpec("occurred_on", "发生日期", s.DATE, aliases=("日期", "时间"), required=True, width=12,
                                signature=True),
                     ColumnSpec("points", "分值", s.TEXT, pattern=POINTS_PATTERN,
                                pattern_message="分值应为数字，最多一位小数", example="1", width=8,
                                note="固定分值的规则可不填；幅度计分的规则必填，最多一位小数"),
                     ColumnSpec("direction", "加扣分", s.TEXT, width=8, note="导出用，由规则决定"),
                     ColumnSpec("note", "事项说明", s.TEXT, aliases=("说明", "备注"), max_length=400, width=28),
                     ColumnSpec("evidence", "佐证材料", s.TEXT, aliases=("证明材料",), max_length=400, width=20,
                                note="规则要求佐证的必填"),
                     ColumnSpec("status", "状态", s.TEXT, width=8, note="导出用")),
            key_columns=("id_number", "rule_code", "occurred_on", "note")),
        SheetSpec(
            key="point_store_item", title="积分超市商品", aliases=("超市商品", "兑换商品"), adapter=ItemAdapter(),
            description="积分超市的商品：兑换所需积分、库存、领取地点；按商品名称更新。",
            columns=(ColumnSpec("name", "商品名称", s.TEXT, required=True, example="洗衣液（2kg）", width=20,
                                signature=True, max_length=100),
                     ColumnSpec("points", "所需积分", s.TEXT, required=True, pattern=POINTS_PATTERN,
                                pattern_message="所需积分应为数字，最多一位小数", example="10", width=10, signature=True),
                     ColumnSpec("stock", "库存", s.INT, example=20, width=8),
                     ColumnSpec("pickup_point", "领取地点", s.TEXT, example="村党群服务中心", width=18),
                     ColumnSpec("active", "状态", s.ENUM, choices=("在售", "下架"), synonyms={"上架": "在售"},
                                example="在售", width=8)),
            key_columns=("name",)),
        SheetSpec(
            key="point_redemption", title="积分兑换记录", aliases=("兑换记录",), adapter=RedemptionAdapter(actor),
            description="积分超市的兑换单，供核对和存档；兑换、领取、取消在程序中办理。",
            columns=(ColumnSpec("number", "兑换单号", s.CODE, required=True, signature=True, width=16),
                     _ID, _NAME,
                     ColumnSpec("item", "商品", s.TEXT, width=18),
                     ColumnSpec("quantity", "数量", s.INT, width=6),
                     ColumnSpec("points", "使用积分", s.TEXT, width=8),
                     ColumnSpec("status", "状态", s.TEXT, width=8, signature=True),
                     ColumnSpec("redeemed_on", "兑换日期", s.DATE, width=12),
                     ColumnSpec("cancel_reason", "取消原因", s.TEXT, width=20)),
            key_columns=("number",)),
    ]


def record_specs(actor: Actor = SYSTEM_ACTOR) -> list[SheetSpec]:
    """Only the 积分记录 sheet: what a village fills in."""
    return [spec for spec in sheet_specs(actor) if spec.key == "point_record"]


def write_record_template(out: Path | str) -> Path:
    return write_template(record_specs(), out)


def import_records(db: Database, path: Path | str, actor: Actor, *, dry_run: bool = False, **kw: Any) -> ImportReport:
    """A village's 积分记录 workbook through the exchange pipeline (dry run first; all or nothing)."""
    if not permissions.can_write(actor):
        raise PermissionDenied("当前账号为只读，不能导入积分记录")
    return run_import(db, path, record_specs(actor), dry_run=dry_run, actor=actor, **kw)


def export_points_sheets(db: Database, out: Path | str, actor: Actor, reason: str | None = None) -> int:
    """All four sheets as a workbook (ID numbers masked unless a reason is given, which is logged).

    A 村录入员 gets only their own village's records and redemptions (rules and goods are township-wide
    and hold no one's data); township roles get everything.
    """
    return export_sheets(db, sheet_specs(actor), out, actor, reason=reason)



# ----- what a township reports up (sync package only) ------------------------------------------
MEMBER_YEARS_SHEET = "member_points"
STORE_SHEET = "store_summary"


def _member_year_rows(db: Database) -> Callable[[Connection], Iterator[dict[str, Any]]]:
    """Each member's year total and grade for every year with rules, with the rules' version and digest.

    Per-member results, not the records: the county decides nothing on a single record (review and 公示
    are the village's and the township's), the return's point figures come as 报表数据, and 110,000
    records a year would make the package three times as large. The version and digest say which rules
    the totals were computed with."""
    def rows(conn: Connection) -> Iterator[dict[str, Any]]:
        service = PointsService(db, SYSTEM_ACTOR)
        latest: dict[int, tuple[int, str]] = {}
        for year, version, digest in conn.execute(select(p.PointRuleSet.year, p.PointRuleSet.version,
                                                         p.PointRuleSet.digest)):
            if year not in latest or version > latest[year][0]:
                latest[year] = (version, digest)
        people = dict(conn.execute(select(m.PartyMember.id, m.Person.id_number)
                                   .join(m.Person, m.Person.id == m.PartyMember.person_id)).all())
        codes = dict(conn.execute(select(m.Village.id, m.Village.code)).all())
        quarter = Period.containing(dt.date.today())
        for year in sorted(y for y in latest if y >= first_reported_year()):  # earlier years: kept at the county
            version, digest = latest[year]
            closed = service.year_closed(year)
            # this year's as of the package's quarter, as its 报表数据 (and the same totals, read once)
            totals = service.totals(year, as_of=quarter.end if year == quarter.year else None)
            for row in sorted(totals, key=lambda r: (codes.get(r.village_id) or "", people[r.party_member_id])):
                yield {"year": year, "id_number": people[row.party_member_id], "name": row.name,
                       "village_code": codes.get(row.village_id), "total": format_points(row.total),
                       "grade": row.grade, "final": "是" if closed else "否",
                       "rules": f"{year}年第{version}版", "digest": digest[:16]}
    return rows


def _store_rows(conn: Connection) -> Iterator[dict[str, Any]]:
    """积分超市: per year, village and item, the redemptions not cancelled."""
    year = extract("year", p.Redemption.redeemed_at)
    query = (select(year.label("year"), m.Village.code, p.Redemption.item_name, func.count(),
                    func.sum(p.Redemption.quantity), func.sum(p.Redemption.points_tenths))
             .join(m.Village, m.Village.id == p.Redemption.village_id)
             .where(p.Redemption.cancelled_at.is_(None))
             .group_by(year, m.Village.code, p.Redemption.item_name)
             .order_by(year, m.Village.code, p.Redemption.item_name))
    for y, code, item, count, quantity, tenths in conn.execute(query):
        yield {"year": int(y), "village_code": code, "item": item, "count": count, "quantity": quantity or 0,
               "points": format_points(tenths or 0)}


def reported_specs(db: Database) -> list[SheetSpec]:
    """党员年度积分 and 积分超市汇总: what the county keeps of the township's points (see county.copies)."""
    return [
        SheetSpec(
            key=MEMBER_YEARS_SHEET, title="党员年度积分", package_only=True,
            adapter=ReportedAdapter(MEMBER_YEARS_SHEET, _member_year_rows(db),
                                    lambda v: f"{v['year']}/{v['id_number']}", lambda v: str(v["year"]),
                                    by_period=True),
            description="每名党员本年度和上年度的积分合计和等次（年度结转后为最终等次），以及计算所用的积分规则版本；"
                        "更早的年度县里保留以前数据包报送的。",
            columns=(ColumnSpec("year", "年度", s.INT, required=True, width=8), _ID, _NAME,
                     ColumnSpec("village_code", "村区划代码", s.CODE, width=16),
                     ColumnSpec("total", "年度积分", s.TEXT, width=10),
                     ColumnSpec("grade", "等次", s.TEXT, width=10),
                     ColumnSpec("final", "已结转", s.TEXT, width=8),
                     ColumnSpec("rules", "积分规则版本", s.TEXT, width=16),
                     ColumnSpec("digest", "规则摘要", s.TEXT, width=18)),
            key_columns=("year", "id_number")),
        SheetSpec(
            key=STORE_SHEET, title="积分超市汇总", package_only=True,
            adapter=ReportedAdapter(STORE_SHEET, _store_rows,
                                    lambda v: f"{v['year']}/{v['village_code']}/{v['item']}", lambda v: str(v["year"])),
            description="各村每年度积分超市兑换的商品、次数、数量和积分（已撤销的不计）。",
            columns=(ColumnSpec("year", "年度", s.INT, required=True, width=8),
                     ColumnSpec("village_code", "村区划代码", s.CODE, required=True, width=16),
                     ColumnSpec("item", "商品", s.TEXT, required=True, width=20),
                     ColumnSpec("count", "兑换次数", s.INT, width=10),
                     ColumnSpec("quantity", "数量", s.INT, width=8),
                     ColumnSpec("points", "兑换积分", s.TEXT, width=10)),
            key_columns=("year", "village_code", "item")),
    ]

"""The registry's sheets for the exchange: villages, party organisations, households, people, party members.

Each spec lists its columns once (headers, aliases, types, vocabularies);
each adapter matches rows against the registry tables by natural keys —
区划代码, (村, 户编号), 身份证号 — with set-based queries in chunks, applies
the registry's own rules (``validation.check_person``/``check_party``), and
writes with Core bulk statements. Only columns present in the user's file are
compared and written, so a village's own roster never blanks other fields.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import Connection, case, func, select

from townapp.core.dates import MonthDate, merge_date, month_dates_of, with_month_dates
from townapp.core.errors import FieldProblem
from townapp.core.idcard import IdInfo, IdNumberError, mask_id_number, parse_id_number
from townapp.core.pinyin import initials
from townapp.db.base import new_uuid, new_uuids
from townapp.db.batch import ModuleBatch
from townapp.exchange import spec as s
from townapp.exchange.spec import ColumnSpec, ImportContext, Row, SheetAdapter, SheetSpec
from townapp.registry import models as m
from townapp.registry.dto import PartyInput, PersonInput
from townapp.registry.service import RegistryBatch, RegistryService
from townapp.registry.validation import PHONE, check_party, check_person
from townapp.registry.vocab import vocab

CHUNK = 500
_VILLAGE_SUFFIXES = ("村民委员会", "居民委员会", "村委会", "居委会")
# how villages' and other systems' rosters head the village column (besides 所属村 and the older aliases)
_VILLAGE_NAME_ALIASES = ("村名", "社区名称", "社区", "村（居）委会", "村居委会", "村（社区）名称", "所属社区")
_PHONE_PATTERN = PHONE.pattern.strip("^$")
_PHONE_MESSAGE = "联系电话应为11位手机号或带区号的固定电话（如 0359-1234567），一格只填一个号码"


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _enum(key: str, header: str, vocabulary: str, **kw: Any) -> ColumnSpec:
    return s.enum_column(key, header, vocab(vocabulary), **kw)


def _village_columns(required_note: str) -> tuple[ColumnSpec, ColumnSpec]:
    return (
        ColumnSpec("village_code", "村区划代码", s.CODE, aliases=("村代码", "村（社区）区划代码", "村级区划代码"),
                   pattern=r"\d{12}", pattern_message="村区划代码应为12位数字", example="140821100201", width=16,
                   note=f"12位统计用区划代码；与“所属村”填一个即可。{required_note}"),
        ColumnSpec("village_name", "所属村", s.NAME, aliases=("村名称", "村/社区", "村（社区）", "所属村（社区）", "村居",
                                                               "行政村", "村", "所在村", "村别", *_VILLAGE_NAME_ALIASES),
                   example="东张村", width=12, note="村或社区名称；同名村较多时请填村区划代码"),
    )


def _door(conn: Connection, ctx: ImportContext) -> RegistryBatch:
    """The registry service's set-based writer for this import: the adapters never write themselves."""
    return RegistryService(ctx.db, ctx.actor).batch_writer(conn, batch_id=ctx.batch_id, reason=ctx.reason,
                                                           now=ctx.now)


def _refuse(rows: Sequence[Row], refused: set[int], ctx: ImportContext) -> None:
    """Rows the service would not write for this account (another village's records)."""
    for index in sorted(refused):
        ctx.error(rows[index], None, "not_permitted", s.NOT_PERMITTED_MESSAGE)


def _hand_over(door: ModuleBatch, model: type, created: Sequence[Row], creates: Sequence[dict[str, Any]],
               updated: Sequence[Row], updates: Sequence[dict[str, Any]], ctx: ImportContext) -> None:
    """New and changed records (built with their ids) to the door; rows it refuses become errors."""
    _refuse(created, door.add(model, creates), ctx)
    refused = door.change(model, updates)
    _refuse(updated, {i for i, row in enumerate(updated) if row.entity_id in refused}, ctx)


def write_rows(door: ModuleBatch, model: type, rows: Sequence[Row], ctx: ImportContext) -> None:
    """Hand a sheet's matched rows to a module's door: ``data["values"]`` of created rows (which get
    their ids), ``data["changes"]`` of updated ones; rows the door refuses become errors."""
    created = [row for row in rows if not row.failed and row.action == "created"]
    ids, refused = door.create(model, [row.data["values"] for row in created])
    for row, new_id in zip(created, ids, strict=True):
        row.entity_id = new_id
    _refuse(created, refused, ctx)
    updated = [row for row in rows if not row.failed and row.action == "updated"]
    refused = door.update(model, [{"id": row.entity_id, **row.data["changes"]} for row in updated])
    _refuse(updated, {i for i, row in enumerate(updated) if row.entity_id in refused}, ctx)


def _strip_suffix(name: str) -> str:
    for suffix in _VILLAGE_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def township_id(conn: Connection, ctx: ImportContext) -> int | None:
    """The township rows belong to; in county mode created on first import, a renamed code is a conflict."""
    if "township_id" in ctx.shared:
        return ctx.shared["township_id"]
    row = conn.execute(select(m.Township.id, m.Township.name).where(m.Township.code == ctx.township_code)).first()
    result: int | None
    if row is None:
        if ctx.mode != "county":
            ctx.error(None, None, "conflict", f"数据库中没有本乡镇（区划代码 {ctx.township_code}）的记录，无法导入")
            result = None
        else:
            now = ctx.now
            result = _door(conn, ctx).add_one(m.Township, dict(
                code=ctx.township_code, name=ctx.township_name, uuid=new_uuid(), created_at=now, updated_at=now))
    else:
        result = row[0]
        if ctx.mode == "county" and row[1] != ctx.township_name:
            ctx.error(None, None, "conflict",
                      f"冲突：区划代码 {ctx.township_code} 在县库中是“{row[1]}”，本数据包却是“{ctx.township_name}”。"
                      "同一区划代码不能有两个名称，请核实后由乡镇更正再导入")
    ctx.shared["township_id"] = result
    return result


def village_reference_columns() -> tuple[ColumnSpec, ColumnSpec]:
    """The two columns by which another module's sheet names a row's village (resolved by ``VillageLookup``)."""
    return (
        ColumnSpec("village_code", "村区划代码", s.CODE, aliases=("村代码", "区划代码"), pattern=r"\d{12}",
                   pattern_message="村区划代码应为12位数字", example="140821100201", width=16,
                   note="12位区划代码；与“所属村”填一个即可"),
        ColumnSpec("village_name", "所属村", s.NAME, aliases=("村名称", "村/社区", "村（社区）", "村", "所在村",
                                                               *_VILLAGE_NAME_ALIASES), example="东张村", width=12),
    )


class VillageLookup:
    """Villages of the township by code and by name (with or without 村委会), loaded once per sheet."""

    def __init__(self, conn: Connection, township: int | None) -> None:
        self.by_code: dict[str, tuple[int, str, int]] = {}
        self.by_name: dict[str, list[int]] = defaultdict(list)
        self.names: dict[int, tuple[str, str]] = {}
        for vid, code, name, tid in conn.execute(select(m.Village.id, m.Village.code, m.Village.name,
                                                        m.Village.township_id)):
            self.by_code[code] = (vid, name, tid)
            if township is None or tid == township:
                self.by_name[name].append(vid)
                short = _strip_suffix(name)
                if short != name:
                    self.by_name[short].append(vid)
                self.names[vid] = (code, name)
        self.township = township

    def resolve(self, row: Row, ctx: ImportContext, *, required: bool) -> int | None:
        """The village id a row names by code or name; errors name the column the user filled."""
        code = row.values.get("village_code")
        name = row.values.get("village_name")
        if name and not code and len(name) == 12 and name.isdigit():
            code, name = name, None  # a code typed into the 所属村 column
        if code:
            hit = self.by_code.get(code)
            if hit is None or (self.township is not None and hit[2] != self.township):
                ctx.error(row, "village_code", "unknown_village",
                          f"村区划代码 {code} 不是本乡镇已登记的村/社区：请核对代码，或先在“村社区”表中登记")
                return None
            if name and name != hit[1] and _strip_suffix(name) != _strip_suffix(hit[1]):
                ctx.error(row, "village_name", "village_mismatch",
                          f"所属村“{name}”与村区划代码 {code}（{hit[1]}）不一致，请核对")
                return None
            return hit[0]
        if name:
            ids = sorted(set(self.by_name.get(name) or self.by_name.get(_strip_suffix(name)) or []))
            if not ids:
                ctx.error(row, "village_name", "unknown_village",
                          f"“{name}”不是本乡镇已登记的村/社区：请核对名称，或先在“村社区”表中登记")
                return None
            if len(ids) > 1:
                ctx.error(row, "village_name", "unknown_village",
                          f"本乡镇有 {len(ids)} 个叫“{name}”的村/社区，请改填村区划代码")
                return None
            return ids[0]
        if required:
            key = "village_name" if "village_name" in ctx.present else "village_code"
            ctx.error(row, key, "required", "所属村不能为空（填村名称或村区划代码）")
        return None


def _lost_zeros(code: str) -> bool:
    """Whether a code may be a number Excel made of it, leading zeros dropped (6 for 0006)."""
    return code.isascii() and code.isdigit() and not code.startswith("0")


def _zero_led(records: Iterable[tuple[int, str]]) -> dict[int, list[tuple[str, int]]]:
    """Stored codes of digits with leading zeros by their value: 6 → [("0006", id)]."""
    by_value: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for record_id, code in records:
        if code.startswith("0") and code.isascii() and code.isdigit():
            by_value[int(code)].append((code, record_id))
    return by_value


def household_ids(conn: Connection, wanted: dict[int, set[str]]
                  ) -> tuple[dict[tuple[int, str], int], dict[tuple[int, str], list[str]]]:
    """(village, 户编号 as the file gives it) → household id, exactly first; a number Excel made of a code
    (6 for 0006) then matches the one stored 户编号 of that value, so it never makes a second household.

    Also returns the numbers that match several stored ones (06 and 0006), for the caller to refuse.
    Set-based: one IN query per village and chunk, and for a village with such numbers not found exactly
    one range query for its 户编号 that start with 0.
    """
    found: dict[tuple[int, str], int] = {}
    ambiguous: dict[tuple[int, str], list[str]] = {}
    household = m.Household.__table__
    for vid, numbers in wanted.items():
        for part in _chunks(sorted(numbers)):
            for hid, number in conn.execute(select(household.c.id, household.c.number).where(
                    household.c.village_id == vid, household.c.number.in_(part))):
                found[(vid, number)] = hid
        misses = [number for number in numbers if (vid, number) not in found and _lost_zeros(number)]
        if not misses:
            continue
        stored = _zero_led(conn.execute(select(household.c.id, household.c.number).where(
            household.c.village_id == vid, household.c.number >= "0", household.c.number < "1")))  # type: ignore[arg-type]
        for typed in misses:
            matches = stored.get(int(typed), [])
            if len(matches) == 1:
                found[(vid, typed)] = matches[0][1]
            elif matches:
                ambiguous[(vid, typed)] = sorted((number for number, _ in matches), key=lambda n: (len(n), n))
    return found, ambiguous


def by_value(name: str, names: dict[str, int]) -> int | None:
    """The id of the one stored code in ``names`` equal in value to ``name`` typed as a number (1 → 01)."""
    if not _lost_zeros(name):
        return None
    hits = _zero_led((record_id, code) for code, record_id in names.items()).get(int(name), [])
    return hits[0][1] if len(hits) == 1 else None


def _village_export(conn: Connection, township_code: str | None,
                    village_id: int | None = None) -> dict[int, tuple[str, str]]:
    """id → (code, name) of the villages an export covers (one township's, or only ``village_id``)."""
    query = select(m.Village.id, m.Village.code, m.Village.name)
    if village_id is not None:
        query = query.where(m.Village.id == village_id)
    if township_code is not None:
        query = query.join(m.Township, m.Township.id == m.Village.township_id).where(m.Township.code == township_code)
    return {vid: (code, name) for vid, code, name in conn.execute(query)}


# ====================================================================================
class VillageAdapter(SheetAdapter):
    entity = "village"

    def match(self, conn: Connection, rows: list[Row], ctx: ImportContext) -> None:
        tid = township_id(conn, ctx)
        valid = [r for r in rows if not r.failed]
        existing: dict[str, tuple[int, str, str, int]] = {}
        codes = [r.values["code"] for r in valid]
        for part in _chunks(codes):
            for vid, code, name, kind, village_tid in conn.execute(
                    select(m.Village.id, m.Village.code, m.Village.name, m.Village.kind, m.Village.township_id)
                    .where(m.Village.code.in_(part))):
                existing[code] = (vid, name, kind, village_tid)
        groups: dict[int, set[str]] = defaultdict(set)
        ids = [v[0] for v in existing.values()]
        for part in _chunks(ids):
            for vid, name in conn.execute(select(m.VillageGroup.village_id, m.VillageGroup.name)
                                          .where(m.VillageGroup.village_id.in_(part))):
                groups[vid].add(name)
        for row in valid:
            hit = existing.get(row.values["code"])
            if hit is None:
                row.action = "created"
                row.data["township_id"] = tid
                continue
            vid, name, kind, village_tid = hit
            if ctx.mode == "township" and tid is not None and village_tid != tid:
                ctx.error(row, "code", "conflict", f"区划代码 {row.values['code']} 已属于其他乡镇的“{name}”")
                continue
            row.entity_id = vid
            changes: dict[str, Any] = {}
            if row.has("name") and row.values["name"] != name:
                changes["name"] = row.values["name"]
                changes["name_initials"] = initials(row.values["name"])
            if row.get("kind") and row.values["kind"] != kind:
                changes["kind"] = row.values["kind"]
            if row.has("groups") and not set(row.values["groups"] or ()) <= groups[vid]:
                row.data["groups_old"] = groups[vid]
                changes["groups"] = True
            row.data["changes"] = changes
            row.action = "updated" if changes else "unchanged"

    def apply(self, conn: Connection, rows: list[Row], ctx: ImportContext) -> None:
        door = _door(conn, ctx)
        new_ids = door.ids(m.Village, sum(row.action == "created" for row in rows))
        creates, group_rows, updates = [], [], []
        created_rows: list[Row] = []
        updated_rows: list[Row] = []
        for row in rows:
            if row.failed:
                continue
            if row.action == "created":
                if row.data.get("township_id") is None:
                    ctx.error(row, "code", "conflict", "无法确定本村所属乡镇")
                    continue
                row.entity_id = next(new_ids)
                created_rows.append(row)
                creates.append(dict(id=row.entity_id, township_id=row.data["township_id"], code=row.values["code"],
                                    name=row.values["name"], kind=row.get("kind", "村"),
                                    name_initials=initials(row.values["name"]), uuid=new_uuid(),
                                    created_at=ctx.now, updated_at=ctx.now))
                group_rows += [dict(village_id=row.entity_id, name=g, uuid=new_uuid(), created_at=ctx.now,
                                    updated_at=ctx.now) for g in row.get("groups", ())]
            elif row.action == "updated":
                changes = dict(row.data["changes"])
                if changes.pop("groups", False):
                    old = row.data["groups_old"]
                    group_rows += [dict(village_id=row.entity_id, name=g, uuid=new_uuid(), created_at=ctx.now,
                                        updated_at=ctx.now) for g in row.values.get("groups") or () if g not in old]
                updated_rows.append(row)
                updates.append(dict(id=row.entity_id, updated_at=ctx.now, **changes))
        refused = door.add(m.Village, creates)
        _refuse(created_rows, refused, ctx)
        gone = {created_rows[i].entity_id for i in refused}
        refused = door.change(m.Village, updates)
        _refuse(updated_rows, {i for i, r in enumerate(updated_rows) if r.entity_id in refused}, ctx)
        door.add(m.VillageGroup, [g for g in group_rows if g["village_id"] not in gone])

    village_scoped = True

    def export_rows(self, conn: Connection, township_code: str | None,
                    village_id: int | None = None) -> Iterator[dict[str, Any]]:
        villages = _village_export(conn, township_code, village_id)
        groups: dict[int, list[str]] = defaultdict(list)
        for vid, name in conn.execute(select(m.VillageGroup.village_id, m.VillageGroup.name)
                                      .order_by(m.VillageGroup.name)):
            groups[vid].append(name)
        query = select(m.Village.id, m.Village.code, m.Village.name, m.Village.kind).order_by(m.Village.code)
        if village_id is not None:
            query = query.where(m.Village.id == village_id)
        for vid, code, name, kind in conn.execute(query):
            if vid in villages:
                yield {"code": code, "name": name, "kind": kind, "groups": tuple(groups.get(vid, ()))}

    def delete(self, conn: Connection, ids: list[int], ctx: ImportContext) -> None:
        _door(conn, ctx).delete_villages(ids)


VILLAGE_SHEET = SheetSpec(
    key="village", title="村社区", aliases=("村/社区", "村（社区）", "村社区信息", "村庄信息", "行政村", "村居信息", "村名册"),
    description="本乡镇的村和社区。区划代码是村的唯一标识，导入时按它找到已有的村。",
    key_columns=("code",),
    adapter=VillageAdapter(),
    columns=(
        ColumnSpec("code", "区划代码", s.CODE, aliases=("村区划代码", "行政区划代码", "统计用区划代码", "村代码", "代码"),
                   required=True, pattern=r"\d{12}", pattern_message="区划代码应为12位数字", example="140821100201",
                   width=16, note="12位统计用区划代码"),
        ColumnSpec("name", "名称", s.NAME, aliases=("村名称", "村/社区名称", "村（社区）名称", "村居名称", "村名", "社区名称"),
                   required=True, max_length=64, example="东张村", width=14),
        _enum("kind", "类别", "village_kind", aliases=("类型", "村/社区"), example="村", width=8,
              note="村 或 社区（不填按“村”）"),
        ColumnSpec("groups", "村民小组", s.LIST, aliases=("村民小组名称", "小组", "村民组"), example="一组、二组、三组",
                   width=30, note="多个小组用顿号“、”隔开；导入只添加小组，不删除已有的小组（删除请在程序中操作）"),
    ),
)


# ====================================================================================
class BranchAdapter(SheetAdapter):
    """Party organisations: few rows, applied one by one so a parent listed above its children works."""

    entity = "branch"
    table = "party_branch"  # where row.entity_id points (the import checks a clerk's rows by its village)

    def _load(self, conn: Connection, ctx: ImportContext) -> dict[tuple[int | None, str], tuple[int, str, int | None]]:
        held = ctx.held_ids(self.entity)
        result = {}
        for bid, name, kind, parent, vid in conn.execute(select(m.PartyBranch.id, m.PartyBranch.name,
                                                                m.PartyBranch.kind, m.PartyBranch.parent_id,
                                                                m.PartyBranch.village_id)):
            if held is not None and vid is None and bid not in held:
                continue  # another township's 党委 or 机关支部 in a county database
            result[(vid, name)] = (bid, kind, parent)
        return result

    def match(self, conn: Connection, rows: list[Row], ctx: ImportContext) -> None:
        villages = VillageLookup(conn, township_id(conn, ctx))
        existing = self._load(conn, ctx)
        seen: dict[tuple[int | None, str], int] = {}
        for row in rows:
            if row.failed:
                continue
            vid = villages.resolve(row, ctx, required=False)
            if row.failed:
                continue
            key = (vid, row.values["name"])
            if key in seen:
                ctx.error(row, "name", "duplicate_in_file", f"与第{seen[key]}行重复：同一村的党组织“{key[1]}”只能出现一次")
                continue
            seen[key] = row.number
            row.data["village_id"] = vid
            hit = existing.get(key)
            if hit is not None:
                row.entity_id = hit[0]

    def apply(self, conn: Connection, rows: list[Row], ctx: ImportContext) -> None:
        door = _door(conn, ctx)
        existing = self._load(conn, ctx)
        by_name: dict[str, list[tuple[int, int | None]]] = defaultdict(list)
        for (vid, name), (bid, _kind, _parent) in existing.items():
            by_name[name].append((bid, vid))
        for row in rows:
            if row.failed:
                continue
            vid = row.data["village_id"]
            parent_id: int | None = None
            if row.get("parent"):
                parent_id = self._parent(row, vid, by_name, ctx)
                if row.failed:
                    continue
            hit = existing.get((vid, row.values["name"]))
            if hit is None:
                values = dict(name=row.values["name"], kind=row.values["kind"], parent_id=parent_id, village_id=vid,
                              uuid=new_uuid(), created_at=ctx.now, updated_at=ctx.now)
                new_id = door.add_one(m.PartyBranch, values)
                if new_id is None:
                    _refuse([row], {0}, ctx)
                    continue
                row.entity_id = new_id
                row.action = "created"
                existing[(vid, row.values["name"])] = (row.entity_id, row.values["kind"], parent_id)
                by_name[row.values["name"]].append((row.entity_id, vid))
                continue
            bid, kind, old_parent = hit
            if parent_id == bid:
                ctx.error(row, "parent", "rule", "上级组织不能是它自己")
                continue
            changes: dict[str, Any] = {}
            if row.values["kind"] != kind:
                changes["kind"] = row.values["kind"]
            if row.has("parent") and parent_id != old_parent:
                changes["parent_id"] = parent_id
            row.entity_id = bid
            row.action = "updated" if changes else "unchanged"
            if changes and door.change(m.PartyBranch, [dict(id=bid, updated_at=ctx.now, **changes)]):
                _refuse([row], {0}, ctx)

    @staticmethod
    def _parent(row: Row, vid: int | None, by_name: dict[str, list[tuple[int, int | None]]],
                ctx: ImportContext) -> int | None:
        name = row.values["parent"]
        candidates = by_name.get(name, [])
        for preferred in (vid, None):
            hits = [bid for bid, v in candidates if v == preferred]
            if len(hits) == 1:
                return hits[0]
        if len(candidates) == 1:
            return candidates[0][0]
        if not candidates:
            ctx.error(row, "parent", "unknown_branch",
                      f"上级组织“{name}”不存在：请先登记它（可写在本表中较靠前的行）")
        else:
            ctx.error(row, "parent", "unknown_branch", f"有多个叫“{name}”的党组织，无法确定上级组织")
        return None

    village_scoped = True

    def export_rows(self, conn: Connection, township_code: str | None,
                    village_id: int | None = None) -> Iterator[dict[str, Any]]:
        villages = _village_export(conn, township_code, village_id)
        branches = {bid: (name, kind, parent, vid) for bid, name, kind, parent, vid in conn.execute(
            select(m.PartyBranch.id, m.PartyBranch.name, m.PartyBranch.kind, m.PartyBranch.parent_id,
                   m.PartyBranch.village_id))}

        def depth(bid: int) -> int:
            level, seen = 0, set()
            while branches[bid][2] is not None and bid not in seen:
                seen.add(bid)
                bid = branches[bid][2]  # type: ignore[assignment]
                level += 1
            return level

        keyed = []
        for bid, (name, kind, parent, vid) in branches.items():
            if vid is not None and vid not in villages:
                continue
            code, village = villages.get(vid, ("", "")) if vid is not None else ("", "")
            keyed.append(((depth(bid), code, name), {
                "name": name, "kind": kind, "parent": branches[parent][0] if parent in branches else None,
                "village_code": code or None, "village_name": village or None}))
        for _key, record in sorted(keyed, key=lambda t: t[0]):
            yield record

    def delete(self, conn: Connection, ids: list[int], ctx: ImportContext) -> None:
        _door(conn, ctx).delete_branches(ids)


BRANCH_SHEET = SheetSpec(
    key="branch", title="党组织", aliases=("党组织信息", "基层党组织", "党组织设置", "党支部信息", "党组织名册"),
    description="党委、党总支、党支部、党小组。上级组织写名称，须已登记或写在本表较靠前的行。",
    adapter=BranchAdapter(),
    columns=(
        ColumnSpec("name", "组织名称", s.NAME, aliases=("党组织名称", "名称", "支部名称", "党支部名称"), required=True,
                   max_length=100, example="中共东张村支部委员会", width=28),
        _enum("kind", "组织类别", "branch_kind", aliases=("类别", "组织类型", "党组织类别"), required=True,
              example="党支部", width=10),
        ColumnSpec("parent", "上级组织", s.NAME, aliases=("上级党组织", "隶属组织", "上级党组织名称"), max_length=100,
                   example="中共临晋镇委员会", width=24),
        *_village_columns("乡镇党委等不属于某村的组织两列都不填。"),
    ),
)


# ====================================================================================
def household_values(household_id: int, village_id: int, number: str, now: dt.datetime, *, group_id: int | None = None,
                     address: str | None = None, phone: str | None = None, note: str | None = None) -> dict[str, Any]:
    """A new household's record for the door: the 住户 sheet's and a 人口 roster's new 户编号 alike."""
    return dict(id=household_id, village_id=village_id, number=number, group_id=group_id, address=address, phone=phone,
                note=note, uuid=new_uuid(), created_at=now, updated_at=now)


class HouseholdAdapter(SheetAdapter):
    entity = "household"
    _FIELDS = ("group", "address", "phone", "note")

    def match(self, conn: Connection, rows: list[Row], ctx: ImportContext) -> None:
        villages = VillageLookup(conn, township_id(conn, ctx))
        wanted: dict[int, set[str]] = defaultdict(set)
        seen: dict[tuple[int, str], int] = {}
        for row in rows:
            if row.failed:
                continue
            vid = villages.resolve(row, ctx, required=True)
            if vid is None:
                continue
            key = (vid, row.values["number"])
            if key in seen:
                ctx.error(row, "number", "duplicate_in_file",
                          f"与第{seen[key]}行重复：{villages.names[vid][1]} 户编号 {key[1]} 只能出现一次")
                continue
            seen[key] = row.number
            row.data["village_id"] = vid
            wanted[vid].add(row.values["number"])
        ids, ambiguous = household_ids(conn, wanted)
        stored: dict[int, tuple[Any, ...]] = {}
        for part in _chunks(sorted(set(ids.values()))):
            for record in conn.execute(select(m.Household.id, m.Household.group_id, m.Household.address,
                                              m.Household.phone, m.Household.note).where(m.Household.id.in_(part))):
                stored[record[0]] = tuple(record)
        existing = {key: stored[hid] for key, hid in ids.items()}
        groups = self._groups(conn, list(wanted))
        named: dict[int, dict[str, int]] = defaultdict(dict)
        for (vid, name), gid in groups.items():
            named[vid][name] = gid
        matched: dict[int, int] = {}  # household id → the first row that names it (6 and 0006 are one)
        for row in rows:
            if row.failed:
                continue
            vid = row.data["village_id"]
            key = (vid, row.values["number"])
            if key in ambiguous:
                ctx.error(row, "number", "unknown_household",
                          f"户编号 {key[1]} 可能是本村的 {'、'.join(ambiguous[key])} 中的任何一户"
                          "（Excel把编号当成数字时会去掉前面的0）：请填写完整的户编号，并把该列设为文本格式")
                continue
            if key in ids and matched.setdefault(ids[key], row.number) != row.number:
                ctx.error(row, "number", "duplicate_in_file",
                          f"与第{matched[ids[key]]}行是同一户（户编号 {key[1]}）：同一户只能出现一次")
                continue
            new = {}
            if row.has("group"):
                name = row.values["group"]
                new["group_id"] = (groups.get((vid, name)) or by_value(name, named[vid])) if name else None
                if name and new["group_id"] is None:
                    row.data["new_group"] = name
            for key in ("address", "phone", "note"):
                if row.has(key):
                    new[key] = row.values[key]
            row.data["new"] = new
            hit = existing.get((vid, row.values["number"]))
            if hit is None:
                row.action = "created"
                continue
            row.entity_id = hit[0]
            old = dict(zip(("group_id", "address", "phone", "note"), hit[1:], strict=True))
            changed = "new_group" in row.data or any(old[k] != v for k, v in new.items())
            row.action = "updated" if changed else "unchanged"
            for key, value in old.items():  # an empty cell keeps what is stored
                new.setdefault(key, value)

    @staticmethod
    def _groups(conn: Connection, village_ids: list[int]) -> dict[tuple[int, str], int]:
        result = {}
        for part in _chunks(village_ids):
            for gid, vid, name in conn.execute(select(m.VillageGroup.id, m.VillageGroup.village_id,
                                                      m.VillageGroup.name).where(m.VillageGroup.village_id.in_(part))):
                result[(vid, name)] = gid
        return result

    def apply(self, conn: Connection, rows: list[Row], ctx: ImportContext) -> None:
        door = _door(conn, ctx)
        valid = [r for r in rows if not r.failed and r.action in ("created", "updated")]
        new_groups = sorted({(r.data["village_id"], r.data["new_group"]) for r in valid if "new_group" in r.data})
        if new_groups:
            refused = door.add(m.VillageGroup, [dict(village_id=v, name=n, uuid=new_uuid(), created_at=ctx.now,
                                                     updated_at=ctx.now) for v, n in new_groups])
            gone = {new_groups[i][0] for i in refused}
            _refuse(valid, {i for i, r in enumerate(valid) if r.data["village_id"] in gone}, ctx)
            valid = [r for r in valid if not r.failed]
            new_groups = [g for g in new_groups if g[0] not in gone]
            ids = self._groups(conn, sorted({v for v, _ in new_groups}))
            for row in valid:
                if "new_group" in row.data:
                    row.data["new"]["group_id"] = ids[(row.data["village_id"], row.data["new_group"])]
            for vid, name in new_groups:
                first = next(r for r in valid if r.data["village_id"] == vid and r.data.get("new_group") == name)
                ctx.warn(first, "group", f"村民小组“{name}”原来没有登记，已自动添加到该村")
        new_ids = door.ids(m.Household, sum(row.action == "created" for row in valid))
        creates, updates, created_rows, updated_rows = [], [], [], []
        present = [k for k in ("group_id", "address", "phone", "note")
                   if (k == "group_id" and "group" in ctx.present) or k in ctx.present]
        for row in valid:
            new = row.data["new"]
            if row.action == "created":
                row.entity_id = next(new_ids)
                created_rows.append(row)
                creates.append(household_values(row.entity_id, row.data["village_id"], row.values["number"], ctx.now,
                                                group_id=new.get("group_id"), address=new.get("address"),
                                                phone=new.get("phone"), note=new.get("note")))
            else:
                updated_rows.append(row)
                updates.append(dict(id=row.entity_id, updated_at=ctx.now, **{k: new[k] for k in present}))
        _hand_over(door, m.Household, created_rows, creates, updated_rows, updates, ctx)

    village_scoped = True

    def export_rows(self, conn: Connection, township_code: str | None,
                    village_id: int | None = None) -> Iterator[dict[str, Any]]:
        villages = _village_export(conn, township_code, village_id)
        query = (select(m.Household.village_id, m.Household.number, m.VillageGroup.name, m.Household.address,
                        m.Household.phone, m.Household.note)
                 .outerjoin(m.VillageGroup, m.VillageGroup.id == m.Household.group_id))
        if village_id is not None:
            query = query.where(m.Household.village_id == village_id)
        records = []
        for vid, number, group, address, phone, note in conn.execute(query):
            if vid not in villages:
                continue
            code, name = villages[vid]
            records.append(((code, number), {"village_code": code, "village_name": name, "number": number,
                                             "group": group, "address": address, "phone": phone, "note": note}))
        for _key, record in sorted(records, key=lambda t: t[0]):
            yield record

    def delete(self, conn: Connection, ids: list[int], ctx: ImportContext) -> None:
        _door(conn, ctx).delete_households(ids)


HOUSEHOLD_SHEET = SheetSpec(
    key="household", title="住户", aliases=("住户登记表", "住户信息", "户籍信息", "住户名册", "户信息", "农户信息", "家庭户"),
    description="住户（户）。按“所属村 + 户编号”找到已有的户；户主和家庭成员在“人员”表中用“户编号”和“与户主关系”登记。",
    required_any=(("village_code", "village_name"),),
    adapter=HouseholdAdapter(),
    columns=(
        *_village_columns(""),
        ColumnSpec("number", "户编号", s.CODE, aliases=("户号", "户籍编号", "户代码", "家庭编号", "住户编号"), required=True,
                   max_length=32, example="0001", width=10, note="本村内唯一，建议用文本，如 0001"),
        ColumnSpec("group", "村民小组", s.NAME, aliases=("小组", "组", "所在小组", "村民组", "组别"), max_length=32,
                   example="一组", width=10),
        ColumnSpec("address", "地址", s.TEXT, aliases=("住址", "家庭住址", "家庭地址", "居住地址", "门牌号"),
                   max_length=200, example="东张村一组15号", width=28),
        ColumnSpec("phone", "联系电话", s.PHONE, aliases=("电话", "手机", "手机号", "手机号码", "联系方式", "电话号码"),
                   pattern=_PHONE_PATTERN, pattern_message=_PHONE_MESSAGE, example="13912345678", width=14),
        ColumnSpec("note", "备注", s.TEXT, max_length=400, width=20),
    ),
)


# ====================================================================================
_PERSON_FIELDS = ("name", "ethnicity", "education", "phone", "village_id", "note")
_PERSON_INSERT = ("id", "id_number", "id_number_rev", "name", "name_initials", "sex", "birth_date", "ethnicity",
                  "education", "phone", "village_id", "note", "uuid", "created_at", "updated_at")
_PROBLEM_KEYS = {"name": "name", "id_number": "id_number", "sex": "sex", "birth_date": "birth_date",
                 "ethnicity": "ethnicity", "education": "education", "phone": "phone"}


def _problem_code(problem: FieldProblem, id_number: str) -> str:
    if problem.field == "id_number":
        try:
            parse_id_number(id_number)
        except IdNumberError as exc:
            return exc.code
        return "id_format"
    return {"sex": "id_mismatch", "birth_date": "id_mismatch", "phone": "bad_phone", "name": "required"}.get(
        problem.field, "bad_enum")


def check_people(rows: Sequence[Row], ctx: ImportContext) -> None:
    """The registry's person rules (``check_person``) on every roster row that describes a person; the
    row's ``IdInfo`` goes to ``row.data["info"]``. A region code unknown for the birth year is one warning
    per code for the sheet, not one per row."""
    region_warnings: dict[str, list[int]] = defaultdict(list)
    total = len(rows)
    today = dt.date.today()
    for index, row in enumerate(rows):
        if index % 5000 == 0:
            ctx.step(index, total, f"{ctx.spec.title}：核对身份证号")
        if row.failed:
            continue
        values = row.values
        data = PersonInput(id_number=values["id_number"], name=values["name"], sex=values.get("sex"),
                           birth_date=values.get("birth_date"), ethnicity=values.get("ethnicity") or "汉族",
                           education=values.get("education"), phone=values.get("phone"))
        problems, info = check_person(data, today)
        for problem in problems:
            if problem.severity == "warning":
                region_warnings[values["id_number"][:6]].append(row.number)
                continue
            key = _PROBLEM_KEYS.get(problem.field, "id_number")
            ctx.error(row, key if key in ctx.present else "id_number", _problem_code(problem, values["id_number"]),
                      problem.message)
        if row.failed or info is None:
            continue
        row.data["info"] = info
    for region, numbers in region_warnings.items():
        ctx.warn(None, "id_number", f"{len(numbers)} 人的身份证号前六位地区码 {region} 在出生年份的行政区划表中"
                                    f"未找到（如第 {numbers[0]} 行）；区划调整前后的代码都可能出现，请抽查核对")


def add_people(door: RegistryBatch, people: Sequence[tuple[IdInfo, dict[str, Any]]],
               now: dt.datetime) -> tuple[list[int], set[int]]:
    """New people — (their ID facts, their fields) — through the registry's door in one statement.

    Returns their new ids and the positions the door refused (another village's people for a 村录入员).
    Sex and birth date come from the ID number, as the registry stores them.
    """
    ids = door.ids(m.Person, len(people)).take(len(people))
    uuids = iter(new_uuids(len(people)))
    records = [(new_id, info.number, info.number[::-1], new["name"], initials(new["name"])[:32], info.sex,
                info.birth_date, new.get("ethnicity") or "汉族", new.get("education"), new.get("phone"),
                new.get("village_id"), new.get("note"), next(uuids), now, now)
               for new_id, (info, new) in zip(ids, people, strict=True)]
    return ids, door.add_rows(m.Person, _PERSON_INSERT, records)


def register_people(conn: Connection, ctx: ImportContext, people: Sequence[tuple[IdInfo, dict[str, Any]]]
                    ) -> tuple[list[int], set[int]]:
    """Another module's roster (网格员花名册) registers the new people it names, through the registry's door."""
    return add_people(_door(conn, ctx), people, ctx.now)


def announce_new_people(names: Sequence[str], ctx: ImportContext) -> None:
    """Say on a roster that is not the 人员 sheet (党员, 网格员) whom it registers as new people:
    its counts are of memberships, and a dry run must show who would be added to the registry."""
    if names:
        shown = "、".join(names[:5]) + ("等" if len(names) > 5 else "")
        ctx.warn(None, "name", f"本表有 {len(names)} 人尚未登记为人员，导入时按本表一并登记为新人员（{shown}）")


def id_number_problem(number: Any) -> tuple[str, str] | None:
    """(code, message) of the ID check (core/idcard.py) for a number that fails it, None for a valid one."""
    if number:
        try:
            parse_id_number(str(number))
        except IdNumberError as exc:
            return exc.code, exc.message
    return None


def refuse_unknown_person(ctx: ImportContext, row: Row, key: str | None, number: Any, message: str) -> None:
    """A row names a person by an ID number no one is registered with.

    Check the cause first: a number that fails the ID check (birth date, check digit) is a typing error,
    not a person to register — reported with the ID check's own code and message (core/idcard.py), so the
    clerk corrects the number; only a valid number is ``unknown_person``, with ``message`` (where to register)."""
    problem = id_number_problem(number)
    if problem is not None:
        ctx.error(row, key, *problem)
        return
    ctx.error(row, key, "unknown_person", message)


class PersonAdapter(SheetAdapter):
    """The 人员 sheet; also the person part of other rosters (``PartyMemberAdapter`` feeds it its rows).

    ``renames``: a different 姓名 renames the stored person (the 人员 sheet) or is a ``name_mismatch``
    error (a roster of something else, where the name only confirms whom the ID means).
    ``needs_village``: a new person must come with a village (a roster that registers people as it goes).
    """

    entity = "person"

    def __init__(self, *, renames: bool = True, needs_village: bool = False) -> None:
        self.renames = renames
        self.needs_village = needs_village

    def match(self, conn: Connection, rows: list[Row], ctx: ImportContext) -> None:
        villages = VillageLookup(conn, township_id(conn, ctx))
        with_village = "village_code" in ctx.present or "village_name" in ctx.present
        with_household = "household" in ctx.present
        check_people(rows, ctx)
        if with_village:
            for row in rows:
                if not row.failed:
                    row.data["village_id"] = villages.resolve(row, ctx, required=False)
        valid = [r for r in rows if not r.failed]
        households: dict[tuple[int, str], int] = {}
        if with_household:
            wanted: dict[int, set[str]] = defaultdict(set)
            for row in valid:
                number = row.values.get("household")
                if number is None:
                    continue
                vid = row.data.get("village_id")
                if vid is None:
                    ctx.error(row, "village_name" if "village_name" in ctx.present else "village_code", "required",
                              "填写了户编号，也请填写所属村（户编号只在村内唯一）")
                    continue
                wanted[vid].add(number)
            households, ambiguous = household_ids(conn, wanted)
        new_households: dict[tuple[int, str], int] = {}  # (village, 户编号) a row registers → its first row
        existing: dict[str, tuple[Any, ...]] = {}
        numbers = [r.values["id_number"] for r in valid]
        person = m.Person.__table__
        link = m.HouseholdMember.__table__
        for part in _chunks(numbers):
            query = (select(person.c.id_number, person.c.id, person.c.name, person.c.ethnicity, person.c.education,
                            person.c.phone, person.c.village_id, person.c.note, link.c.household_id, link.c.relation)
                     .outerjoin(link, link.c.person_id == person.c.id).where(person.c.id_number.in_(part)))
            for record in conn.execute(query):
                existing[record[0]] = tuple(record[1:])
        for row in valid:
            if row.failed:
                continue
            new = self._new_values(row, ctx)
            if with_household:
                number = row.values.get("household")
                if number is None:
                    row.data["link"] = None
                else:
                    key = (row.data["village_id"], number)
                    hid = households.get(key)
                    if key in ambiguous:
                        ctx.error(row, "household", "unknown_household",
                                  f"户编号 {number} 可能是本村的 {'、'.join(ambiguous[key])} 中的任何一户"
                                  "（Excel把编号当成数字时会去掉前面的0）：请填写完整的户编号，并把该列设为文本格式")
                        continue
                    if hid is None:  # a household the roster is the first to name: registered with it
                        new_households.setdefault(key, row.number)
                        row.data["new_household"] = key
                    relation = row.values["relation"]
                    stored = existing.get(row.values["id_number"])
                    if relation is None and stored is not None and stored[7] == hid:
                        relation = stored[8]  # an empty cell keeps the stored relation in the same household
                    if relation is None:
                        ctx.error(row, "relation" if "relation" in ctx.present else "household", "required",
                                  "填写了户编号，也请填写与户主关系")
                        continue
                    row.data["link"] = (hid, relation)
            row.data["new"] = new
            hit = existing.get(row.values["id_number"])
            if hit is None:
                if self.needs_village and row.data.get("village_id") is None:
                    self._no_village(row, ctx)
                    continue
                row.data["village_after"] = new.get("village_id")
                row.action = "created"
                continue
            pid, name, ethnicity, education, phone, village_id, note, hid, relation = hit
            if not self.renames and name != row.values["name"]:
                ctx.error(row, "name", "name_mismatch",
                          f"姓名“{row.values['name']}”与该身份证号登记的姓名“{name}”不一致，请核对")
                continue
            row.entity_id = pid
            old = {"name": name, "ethnicity": ethnicity, "education": education, "phone": phone,
                   "village_id": village_id, "note": note}
            if "ethnicity" in new and new["ethnicity"] is None:
                new["ethnicity"] = ethnicity
            row.data["old_link"] = (hid, relation) if hid is not None else None
            changed = any(old[k] != v for k, v in new.items())
            for key in self._new_fields(ctx):  # an empty cell keeps what is stored
                new.setdefault(key, old[key])
            row.data["village_after"] = new.get("village_id", village_id)
            if with_household and row.has("household") and row.data["link"] != row.data["old_link"]:
                changed = True
                row.data["link_changed"] = True
            row.action = "updated" if changed else "unchanged"
        self._announce_households(new_households, rows, villages, ctx)

    @staticmethod
    def _no_village(row: Row, ctx: ImportContext) -> None:
        """A new person without a village: every person the registry holds belongs to a village."""
        who = f"身份证号 {mask_id_number(row.values['id_number'])}（{row.values['name']}）尚未登记为人员"
        if "village_code" in ctx.present or "village_name" in ctx.present:
            key = "village_name" if "village_name" in ctx.present else "village_code"
            ctx.error(row, key, "required", f"{who}：要随本表登记此人，请填写所属村")
        else:
            ctx.error(row, "id_number", "unknown_person",
                      f"{who}：要随本表登记此人，请在表中加一列“所属村”（或“村区划代码”）并填写；"
                      "也可先在“人员”表中登记此人（可放在同一文件中）")

    @staticmethod
    def _announce_households(new: dict[tuple[int, str], int], rows: list[Row], villages: VillageLookup,
                             ctx: ImportContext) -> None:
        """Households a 人口 roster registers because its 户编号 are not registered yet: said, never silent."""
        named = {row.data.get("new_household") for row in rows if not row.failed}
        keys = [key for key in new if key in named]
        if not keys:
            return
        shown = "、".join(f"{villages.names.get(v, ('', ''))[1]}{n}" for v, n in keys[:5]) + ("等" if len(keys) > 5 else "")
        ctx.warn(None, "household", f"本表有 {len(keys)} 个户编号尚未登记为住户，导入时按本表新建这些住户（{shown}）："
                                    "如果是户编号填错了，请改正后再导入")

    @staticmethod
    def _new_fields(ctx: ImportContext) -> list[str]:
        """The person columns this sheet can change (its rows' empty cells keep the stored value)."""
        fields = [key for key in ("name", "ethnicity", "education", "phone", "note") if key in ctx.present]
        if "village_code" in ctx.present or "village_name" in ctx.present:
            fields.append("village_id")
        return fields

    @staticmethod
    def _new_values(row: Row, ctx: ImportContext) -> dict[str, Any]:
        new: dict[str, Any] = {}
        for key in ("name", "ethnicity", "education", "phone", "note"):
            if row.has(key):
                new[key] = row.values[key]
        if row.has("village_code") or row.has("village_name"):
            new["village_id"] = row.data.get("village_id")
        return new

    def apply(self, conn: Connection, rows: list[Row], ctx: ImportContext) -> None:
        door = _door(conn, ctx)
        link = m.HouseholdMember.__table__
        self._add_households(door, rows, ctx)
        updates, created_rows, updated_rows = [], [], []
        fields = [k for k in _PERSON_FIELDS if k in self._new_fields(ctx)]
        link_inserts, link_updates, link_deletes = [], [], []
        for row in rows:
            if row.failed or row.action not in ("created", "updated"):
                continue
            new = row.data["new"]
            if row.action == "created":
                created_rows.append(row)
                if row.data.get("link"):
                    link_inserts.append((row, row.data["link"]))
                continue
            params = {k: new[k] for k in fields}
            params["name_initials"] = initials(new["name"])[:32]
            params["id"] = row.entity_id
            params["updated_at"] = ctx.now
            updates.append(params)
            updated_rows.append(row)
            if row.data.get("link_changed"):
                target, old = row.data["link"], row.data["old_link"]
                if target is None:
                    link_deletes.append(row.entity_id)
                elif old is None:
                    link_inserts.append((row, target))
                else:
                    link_updates.append((row, target, old))
        ids, refused_new = add_people(door, [(row.data["info"], row.data["new"]) for row in created_rows], ctx.now)
        for row, new_id in zip(created_rows, ids, strict=True):
            row.entity_id = new_id
        _refuse(created_rows, refused_new, ctx)
        refused = door.change(m.Person, updates)
        _refuse(updated_rows, {i for i, r in enumerate(updated_rows) if r.entity_id in refused}, ctx)
        if any(r.failed for r in created_rows) or refused:
            link_inserts = [(r, t) for r, t in link_inserts if not r.failed]
            link_updates = [(r, t, old) for r, t, old in link_updates if not r.failed]
            link_deletes = [i for i in link_deletes if i not in refused]
        door.remove_household_links(link_deletes)
        targets = sorted({t[0] for _, t in link_inserts} | {t[0] for _, t, old in link_updates if t[0] != old[0]})
        positions: dict[int, int] = {}
        for part in _chunks(targets):
            positions.update(conn.execute(select(link.c.household_id, func.max(link.c.position))
                                          .where(link.c.household_id.in_(part)).group_by(link.c.household_id)).all())

        def position(hid: int, relation: str) -> int:
            if relation == "户主":
                return 0
            positions[hid] = positions.get(hid, 0) + 1
            return positions[hid]

        if link_updates:
            door.set_household_links([dict(person_id=row.entity_id, household_id=t[0], relation=t[1],
                                           position=position(t[0], t[1])) for row, t, _old in link_updates])
        if link_inserts:
            links = door.ids(m.HouseholdMember, len(link_inserts)).take(len(link_inserts))
            door.add(m.HouseholdMember, [dict(id=links[n], household_id=t[0], person_id=row.entity_id,
                                              relation=t[1], position=position(t[0], t[1]))
                                         for n, (row, t) in enumerate(link_inserts)])

    @staticmethod
    def _add_households(door: RegistryBatch, rows: list[Row], ctx: ImportContext) -> None:
        """Households this roster is the first to name, registered before their members are linked to them."""
        waiting = [row for row in rows if not row.failed and row.action in ("created", "updated")
                   and row.data.get("new_household")]
        keys = sorted({row.data["new_household"] for row in waiting})
        if not keys:
            return
        ids = dict(zip(keys, door.ids(m.Household, len(keys)).take(len(keys)), strict=True))
        refused = door.add(m.Household, [household_values(ids[key], key[0], key[1], ctx.now) for key in keys])
        gone = {keys[i] for i in refused}
        _refuse(waiting, {i for i, row in enumerate(waiting) if row.data["new_household"] in gone}, ctx)
        for row in waiting:
            if not row.failed:
                row.data["link"] = (ids[row.data["new_household"]], row.data["link"][1])

    def report_needs_writes(self, rows: list[Row], ctx: ImportContext) -> bool:
        """``match`` decides every action; only the 户主 check in ``finish`` reads the written links."""
        return any(row.data.get("link") or row.data.get("old_link") for row in rows if not row.failed)

    def finish(self, conn: Connection, rows: list[Row], ctx: ImportContext) -> None:
        """Exactly one 户主 in every household this sheet touched (and that still has members)."""
        touched: dict[int, list[Row]] = defaultdict(list)
        left: dict[int, list[Row]] = defaultdict(list)
        for row in rows:
            if row.failed or (not row.data.get("link_changed") and row.action != "created"):
                continue
            if row.data.get("link"):
                touched[row.data["link"][0]].append(row)
            if row.data.get("old_link"):
                left[row.data["old_link"][0]].append(row)
        ids = sorted(set(touched) | set(left))
        link = m.HouseholdMember.__table__
        bad: dict[int, int] = {}
        for part in _chunks(ids):
            heads = func.sum(case((link.c.relation == "户主", 1), else_=0))
            for hid, count in conn.execute(select(link.c.household_id, heads).where(link.c.household_id.in_(part))
                                           .group_by(link.c.household_id)):
                if count != 1:
                    bad[hid] = int(count)
        if not bad:
            return
        numbers = dict(conn.execute(select(m.Household.id, m.Household.number).where(m.Household.id.in_(list(bad)))).all())
        for hid, count in bad.items():
            culprits = touched.get(hid) or left.get(hid) or []
            if count > 1:
                culprits = [r for r in culprits if r.data.get("link") and r.data["link"][1] == "户主"] or culprits
                message = f"户编号 {numbers.get(hid, '')} 有 {count} 位户主：每户只能有一位户主，请改正“与户主关系”"
            else:
                message = (f"户编号 {numbers.get(hid, '')} 没有户主：每户必须有且只有一位户主，"
                           "请在“与户主关系”中标明户主（原户主迁出时请同时指定新户主）")
            for row in culprits:
                ctx.error(row, "relation" if "relation" in ctx.present else "household", "household_head", message)

    village_scoped = True

    def export_rows(self, conn: Connection, township_code: str | None,
                    village_id: int | None = None) -> Iterator[dict[str, Any]]:
        villages = _village_export(conn, township_code, village_id)
        person = m.Person.__table__
        link = m.HouseholdMember.__table__
        query = (select(person.c.id_number, person.c.name, person.c.sex, person.c.birth_date, person.c.ethnicity,
                        person.c.education, person.c.phone, person.c.village_id, m.Household.number,
                        link.c.relation, person.c.note)
                 .outerjoin(link, link.c.person_id == person.c.id)
                 .outerjoin(m.Household, m.Household.id == link.c.household_id)
                 .order_by(person.c.id_number))
        if village_id is not None:
            query = query.where(person.c.village_id == village_id)
        for (id_number, name, sex, birth, ethnicity, education, phone, vid, number, relation,
             note) in conn.execute(query):
            if township_code is not None and vid not in villages:
                continue
            code, village = villages.get(vid, (None, None)) if vid is not None else (None, None)
            yield {"id_number": id_number, "name": name, "sex": sex, "birth_date": birth, "ethnicity": ethnicity,
                   "education": education, "phone": phone, "village_code": code, "village_name": village,
                   "household": number, "relation": relation, "note": note}

    def delete(self, conn: Connection, ids: list[int], ctx: ImportContext) -> None:
        _door(conn, ctx).delete_people(ids)


_ID_COLUMN = ColumnSpec("id_number", "身份证号", s.ID_NUMBER,
                        aliases=("身份证号码", "公民身份号码", "公民身份证号码", "身份证", "证件号码", "证件号",
                                 "居民身份证号码", "身份证号（18位）"),
                        required=True, example="140821199001011234", width=22,
                        note="18位，必须是文本格式（单元格格式设为“文本”），否则Excel会把后几位变成0")
_NAME_COLUMN = ColumnSpec("name", "姓名", s.NAME, aliases=("名字", "成员姓名", "党员姓名", "人员姓名"), required=True,
                          max_length=64, example="张三", width=10)

PERSON_SHEET = SheetSpec(
    key="person", title="人员", aliases=("人口信息", "人员信息", "人口登记表", "户籍人口", "人口", "居民信息", "人员名册",
                                         "人口花名册", "花名册", "家庭成员", "常住人口"),
    description="人员（按身份证号识别，同一人只登记一次）。性别和出生日期由身份证号得出，表中填写时会核对是否一致。"
                "填“户编号”和“与户主关系”即把此人登记到该户（每户有且只有一位户主）。",
    key_columns=("id_number",),
    adapter=PersonAdapter(),
    columns=(
        _ID_COLUMN,
        _NAME_COLUMN,
        _enum("sex", "性别", "sex", example="男", width=6, signature=True, note="可不填；填写时须与身份证号一致"),
        ColumnSpec("birth_date", "出生日期", s.DATE, aliases=("出生年月", "出生年月日", "生日", "出生时间"),
                   example=dt.date(1990, 1, 1), width=12, signature=True, month_precision=True,
                   note="可不填；填写时须与身份证号一致（只写年月如 1990.01 时核对到月）"),
        _enum("ethnicity", "民族", "ethnicity", example="汉族", width=8, signature=True),
        _enum("education", "文化程度", "education", aliases=("学历", "文化", "最高学历", "受教育程度", "学历程度"), example="高中", width=10, signature=True),
        ColumnSpec("phone", "联系电话", s.PHONE, aliases=("电话", "手机", "手机号", "手机号码", "联系方式", "电话号码"),
                   pattern=_PHONE_PATTERN, pattern_message=_PHONE_MESSAGE, example="13812345678", width=14),
        *_village_columns(""),
        ColumnSpec("household", "户编号", s.CODE, aliases=("户号", "户籍编号", "所在户编号", "家庭编号", "住户编号"),
                   max_length=32, example="0001", width=10, note="此人所在户；户须已登记或在本文件“住户”表中"),
        _enum("relation", "与户主关系", "relation", aliases=("与户主的关系", "家庭关系", "户主关系", "关系"), example="户主",
              width=10, signature=True),
        ColumnSpec("note", "备注", s.TEXT, max_length=400, width=20),
    ),
)


# ====================================================================================
_PARTY_KEYS = ("member_type", "joined_on", "confirmed_on", "branch_id", "group_id", "party_post", "status",
               "status_date", "mobility", "mobility_since", "destination", "points_category", "duty_post")
_NOT_NULL_DEFAULTS = {"member_type": "正式党员", "status": "正常", "mobility": "在村", "points_category": "无职"}
_COLUMN_OF = {"branch_id": "branch", "group_id": "group"}
# the person's columns a 党员花名册 may carry: with any of them, its rows register or update the person
_ROSTER_PERSON_COLUMNS = ("sex", "birth_date", "ethnicity", "education", "phone", "village_code", "village_name",
                          "household", "relation")
_ROSTER_PERSON_KEYS = frozenset(_ROSTER_PERSON_COLUMNS)


class PartyMemberAdapter(SheetAdapter):
    """The 党员 sheet. A village's 党员花名册 that carries the person's columns (所属村, 性别, 户编号 …)
    registers or updates the person through the 人员 sheet's own adapter, in the same import."""

    entity = "party_member"

    def __init__(self) -> None:
        self.people = PersonAdapter(renames=False, needs_village=True)

    def _people(self, conn: Connection, rows: list[Row], ctx: ImportContext
                ) -> dict[str, tuple[int | None, str, dt.date, str, int | None]]:
        """ID number → (person id or None for a new person, name, birth date, sex, village) of each row.

        A sheet with person columns hands each row's person to ``PersonAdapter`` (its rows share the
        cells; an error there is this row's error); a sheet with none only looks the people up.
        """
        people: dict[str, tuple[int | None, str, dt.date, str, int | None]] = {}
        if not ctx.present & _ROSTER_PERSON_KEYS:
            valid = [r for r in rows if not r.failed]
            person = m.Person.__table__
            for part in _chunks([r.values["id_number"] for r in valid]):
                for record in conn.execute(select(person.c.id_number, person.c.id, person.c.name, person.c.birth_date,
                                                  person.c.sex, person.c.village_id)
                                           .where(person.c.id_number.in_(part))):
                    people[record[0]] = tuple(record[1:])  # type: ignore[assignment]
            return people
        for row in rows:
            if not row.failed:
                row.data["person"] = Row(row.number, row.values)
        parts = [row.data["person"] for row in rows if "person" in row.data]
        self.people.match(conn, parts, ctx)
        created = []
        for row in rows:
            part = row.data.get("person")
            if part is None:
                continue
            if part.failed:
                row.failed = True
                continue
            info: IdInfo = part.data["info"]
            people[row.values["id_number"]] = (part.entity_id, row.values["name"], info.birth_date, info.sex,
                                               part.data["village_after"])
            if part.action == "created":
                created.append(row.values["name"])
        announce_new_people(created, ctx)
        return people

    def match(self, conn: Connection, rows: list[Row], ctx: ImportContext) -> None:
        self._read_member_type(rows, ctx)
        people = self._people(conn, rows, ctx)
        valid = [r for r in rows if not r.failed]
        party = m.PartyMember.__table__
        existing: dict[int, dict[str, Any]] = {}
        ids = [p[0] for p in people.values() if p[0] is not None]
        for part in _chunks(ids):
            for record in conn.execute(select(party.c.person_id, party.c.id, party.c.month_dates,
                                              *[party.c[k] for k in _PARTY_KEYS]).where(party.c.person_id.in_(part))):
                existing[record[0]] = with_month_dates(
                    {"id": record[1], **dict(zip(_PARTY_KEYS, record[3:], strict=True))}, record[2])
        branches: dict[str, list[tuple[int, int | None]]] = defaultdict(list)
        held = ctx.held_ids("branch")
        for bid, name, vid in conn.execute(select(m.PartyBranch.id, m.PartyBranch.name, m.PartyBranch.village_id)):
            if held is None or bid in held:
                branches[name].append((bid, vid))
        for row in valid:
            hit = people.get(row.values["id_number"])
            if hit is None:
                PersonAdapter._no_village(row, ctx)  # a sheet without the person's columns: say which to add
                continue
            pid, name, birth, sex, vid = hit
            if name != row.values["name"]:
                ctx.error(row, "name", "name_mismatch",
                          f"姓名“{row.values['name']}”与该身份证号登记的姓名“{name}”不一致，请核对")
                continue
            old = existing.get(pid)
            merged = {k: (old[k] if old else None) for k in _PARTY_KEYS}
            for key, default in _NOT_NULL_DEFAULTS.items():
                merged[key] = merged[key] or default
            for key in _PARTY_KEYS:
                column = _COLUMN_OF.get(key, key)
                if not row.has(column):  # not in the sheet, or an empty cell: keep what is stored
                    continue
                value = row.values.get(column)
                if key in ("branch_id", "group_id"):
                    value = self._branch(row, column, value, vid, branches, ctx) if value else None
                if key in _NOT_NULL_DEFAULTS and value is None:
                    continue
                if isinstance(value, MonthDate):  # 1978.02 over a stored 1978-02-02 keeps the day
                    value = merge_date(merged[key], value)
                merged[key] = value
            if row.failed:
                continue
            if merged["mobility"] == "在村":
                merged["mobility_since"] = None
                merged["destination"] = None
            party_input = PartyInput(**{k: merged[k] for k in _PARTY_KEYS})
            info = IdInfo(number=row.values["id_number"], birth_date=birth, sex=sex,
                          region_code=row.values["id_number"][:6], region_known=True)
            for problem in check_party(party_input, info):
                if problem.severity != "error":
                    continue
                key = problem.field.removeprefix("party.")
                column = _COLUMN_OF.get(key, key)
                ctx.error(row, column if column in ctx.present else "id_number", "rule", problem.message)
            if row.failed:
                continue
            row.data["person_id"] = pid
            row.data["merged"] = merged
            if old is None:
                row.action = "created"
                continue
            row.entity_id = old["id"]
            row.action = "updated" if any(old[k] != merged[k] for k in _PARTY_KEYS) else "unchanged"
        for row in valid:  # a row whose membership stays as it is may still change its person (电话, 所属村 …)
            part = row.data.get("person")
            row.data["party_changed"] = row.action != "unchanged"
            if not row.failed and row.action == "unchanged" and part is not None and part.action == "updated":
                row.action = "updated"

    @staticmethod
    def _read_member_type(rows: list[Row], ctx: ImportContext) -> None:
        """党籍状态 holding 正式党员/预备党员 (as the national and many county templates use it) is the 党员类别:
        read as such, and said once; the stored 党籍状态 (正常 …) stays as it is."""
        types = frozenset(vocab("member_type").values)
        moved = 0
        for row in rows:
            value = row.values.get("status")
            if row.failed or value not in types:
                continue
            if row.values.get("member_type") not in (None, value):
                ctx.error(row, "status", "rule", f"党籍状态填的“{value}”与党员类别“{row.values['member_type']}”不一致，请核对")
                continue
            row.values["member_type"] = value
            del row.values["status"]
            moved += 1
        if moved:
            ctx.warn(None, "status", f"“党籍状态”列有 {moved} 行填的是正式党员/预备党员，已按“党员类别”导入（党籍状态不变）")

    @staticmethod
    def _branch(row: Row, column: str, name: str, village: int | None,
                branches: dict[str, list[tuple[int, int | None]]], ctx: ImportContext) -> int | None:
        candidates = branches.get(name, [])
        if len(candidates) == 1:
            return candidates[0][0]
        local = [bid for bid, vid in candidates if vid == village]
        if len(local) == 1:
            return local[0]
        if not candidates:
            ctx.error(row, column, "unknown_branch", f"党组织“{name}”尚未登记：请先在“党组织”表中登记（可放在同一文件中）")
        else:
            ctx.error(row, column, "unknown_branch", f"有 {len(candidates)} 个叫“{name}”的党组织，无法确定是哪一个")
        return None

    def apply(self, conn: Connection, rows: list[Row], ctx: ImportContext) -> None:
        door = _door(conn, ctx)
        new_ids = door.ids(m.PartyMember, sum(row.action == "created" for row in rows))
        creates, updates, created_rows, updated_rows = [], [], [], []
        self._apply_people(conn, rows, ctx)
        for row in rows:
            if row.failed or row.action not in ("created", "updated") or not row.data["party_changed"]:
                continue
            merged = row.data["merged"]
            if row.action == "created":
                row.entity_id = next(new_ids)
                created_rows.append(row)
                creates.append(dict(id=row.entity_id, person_id=row.data["person_id"], uuid=new_uuid(),
                                    created_at=ctx.now, updated_at=ctx.now, **merged,
                                    month_dates=month_dates_of(merged, m.PARTY_MONTH_DATES)))
            else:
                updated_rows.append(row)
                updates.append(dict(id=row.entity_id, updated_at=ctx.now, **merged,
                                    month_dates=month_dates_of(merged, m.PARTY_MONTH_DATES)))
        _hand_over(door, m.PartyMember, created_rows, creates, updated_rows, updates, ctx)

    def _apply_people(self, conn: Connection, rows: list[Row], ctx: ImportContext) -> None:
        """The rows' people first (new ones get their ids), through the 人员 sheet's adapter."""
        pairs = [(row, row.data["person"]) for row in rows if "person" in row.data]
        if not pairs:
            return
        for row, part in pairs:  # a row another sheet's rule failed after match has no person to write
            part.failed = part.failed or row.failed
        self.people.apply(conn, [part for _row, part in pairs], ctx)
        for row, part in pairs:
            row.failed = row.failed or part.failed
            row.data["person_id"] = part.entity_id

    def finish(self, conn: Connection, rows: list[Row], ctx: ImportContext) -> None:
        """The people's households still have exactly one 户主 (the 人员 sheet's own check)."""
        pairs = [(row, row.data["person"]) for row in rows if "person" in row.data]
        if pairs:
            self.people.finish(conn, [part for _row, part in pairs], ctx)
            for row, part in pairs:
                row.failed = row.failed or part.failed

    village_scoped = True

    def export_rows(self, conn: Connection, township_code: str | None,
                    village_id: int | None = None) -> Iterator[dict[str, Any]]:
        villages = _village_export(conn, township_code, village_id)
        branch_names = dict(conn.execute(select(m.PartyBranch.id, m.PartyBranch.name)).all())
        party = m.PartyMember.__table__
        query = (select(m.Person.id_number, m.Person.name, m.Person.village_id, party.c.month_dates,
                        *[party.c[k] for k in _PARTY_KEYS])
                 .join(m.Person, m.Person.id == party.c.person_id).order_by(m.Person.id_number))
        if village_id is not None:
            query = query.where(m.Person.village_id == village_id)
        for record in conn.execute(query):
            if township_code is not None and record[2] not in villages:
                continue
            values = with_month_dates(dict(zip(_PARTY_KEYS, record[4:], strict=True)), record[3])
            yield {"id_number": record[0], "name": record[1], **{k: v for k, v in values.items()
                                                                  if k not in ("branch_id", "group_id")},
                   "branch": branch_names.get(values["branch_id"]), "group": branch_names.get(values["group_id"])}

    def delete(self, conn: Connection, ids: list[int], ctx: ImportContext) -> None:
        _door(conn, ctx).delete_party_members(ids)


# 党籍状态 as the national and many county templates fill it: 正式党员/预备党员 (the 党员类别, which
# PartyMemberAdapter reads as such); the choices offered stay the 党籍状态 ones
_STATUS_SYNONYMS = {**{value: value for value in vocab("member_type").values}, **vocab("member_type").synonyms,
                    **vocab("party_status").synonyms}


def _roster_person_column(key: str) -> ColumnSpec:
    """A 人员 column on another roster: the same column (one definition), read only from users' files."""
    return replace(PERSON_SHEET.column(key), signature=False, exported=False)


PARTY_MEMBER_SHEET = SheetSpec(
    key="party_member", title="党员", aliases=("党员花名册", "党员信息", "党员名册", "党员基本信息", "党员台账", "党员信息表"),
    description="党员（按身份证号对应人员，姓名须一致）。尚未登记的人，填写所属村（有户编号时连同与户主关系）"
                "即随本表一并登记为人员；已登记的人，表中的性别、电话等人员信息与“人员”表一样核对和更新。只会更新表中有的列。",
    key_columns=("id_number",),
    adapter=PartyMemberAdapter(),
    columns=(
        _ID_COLUMN,
        _NAME_COLUMN,
        _enum("member_type", "党员类别", "member_type", aliases=("党员类型", "人员类别", "党员身份"), example="正式党员",
              width=10, signature=True),
        ColumnSpec("joined_on", "入党日期", s.DATE, aliases=("入党时间", "入党年月", "入党年月日"), example=dt.date(2015, 7, 1),
                   width=12, signature=True, month_precision=True),
        ColumnSpec("confirmed_on", "转正日期", s.DATE, aliases=("转正时间", "转正年月"), example=dt.date(2016, 7, 1),
                   width=12, signature=True, note="预备党员不填", month_precision=True),
        ColumnSpec("branch", "所在党组织", s.NAME, aliases=("所在党支部", "所在支部", "党支部", "所属党组织", "所属支部",
                                                          "所属党支部", "支部"),
                   max_length=100, example="中共东张村支部委员会", width=24, signature=True),
        ColumnSpec("group", "所在党小组", s.NAME, aliases=("党小组", "所属党小组"), max_length=100, example="第一党小组",
                   width=12),
        ColumnSpec("party_post", "党内职务", s.TEXT, aliases=("党内职位", "党内任职"), max_length=32, example="党支部书记",
                   width=12),
        ColumnSpec("status", "党籍状态", s.ENUM, aliases=("党籍", "组织关系状态"), example="正常", width=10,
                   choices=vocab("party_status").values, synonyms=_STATUS_SYNONYMS),
        ColumnSpec("status_date", "党籍变动日期", s.DATE, aliases=("党籍状态日期", "变动日期"), width=12,
                   month_precision=True),
        _enum("mobility", "流动情况", "mobility", aliases=("是否流动党员", "流动状态", "是否流动", "流动党员"), example="在村",
              width=10),
        ColumnSpec("mobility_since", "流动（失联）日期", s.DATE,
                   aliases=("流动日期", "流出日期", "外出时间", "失联日期", "流动开始日期", "外出日期"), width=14,
                   note="流动或失联时必填；只知道年月可写 2021.07", month_precision=True),
        ColumnSpec("destination", "流动去向", s.TEXT, aliases=("去向", "外出地点", "流入地", "流向", "外出务工地点"),
                   max_length=100, width=16),
        _enum("points_category", "积分管理类别", "points_category", aliases=("积分类别", "积分管理分类", "党员分类"),
              example="无职", width=12),
        ColumnSpec("duty_post", "设岗定责岗位", s.TEXT, aliases=("设岗定责", "岗位", "承诺岗位"), max_length=64,
                   example="政策宣传岗", width=14),
        *(_roster_person_column(key) for key in _ROSTER_PERSON_COLUMNS),
    ),
)


def sheet_specs() -> list[SheetSpec]:
    """The registry's sheets in import order: a row can only refer to sheets before it."""
    return [VILLAGE_SHEET, BRANCH_SHEET, HOUSEHOLD_SHEET, PERSON_SHEET, PARTY_MEMBER_SHEET]



"""Saved column mappings (import layouts) and the ``--mapping`` file.

A person confirms once which column of a village's own workbook is which field
(the wizard's 列对应 step, or a mapping file on the command line) and names it
(东关村党员花名册). It is saved under the header's shape and applied by itself the
next time the same layout arrives; the import report names the layout it used.
The import that confirmed it saves it in its own transaction, so a rejected or
dry run saves nothing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from townapp.core import permissions
from townapp.core.actor import Actor
from townapp.core.errors import DomainError
from townapp.core.text import length_problem
from townapp.db import Database
from townapp.db.base import utcnow
from townapp.exchange.models import ImportLayout
from townapp.exchange.recognise import SheetMapping, field_key, spec_by_key
from townapp.exchange.spec import SheetSpec

NAME_LENGTH = 64


@dataclass(frozen=True)
class SavedLayout:
    """A saved layout as the layouts list shows it."""

    id: int
    name: str
    entity: str
    columns: dict[str, str | None]
    username: str
    saved_at: Any
    used_at: Any


class MappingFileError(DomainError):
    """A ``--mapping`` file that cannot be used; the message says what to fix."""


def read_mapping_file(path: Path | str) -> tuple[dict[str, SheetMapping], str | None]:
    """``{"sheets": {sheet: {"entity": key|null, "header_row": n, "columns": {header: field|null}}}, "save_as": name}``."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise MappingFileError(f"找不到列对应文件：{path}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MappingFileError(f"列对应文件 {path.name} 不是有效的 JSON（{exc}）") from None
    if not isinstance(data, dict) or not isinstance(data.get("sheets"), dict):
        raise MappingFileError(f"列对应文件 {path.name} 应有 \"sheets\"：每个工作表名对应 entity 和 columns")
    mappings: dict[str, SheetMapping] = {}
    for sheet, entry in data["sheets"].items():
        if not isinstance(entry, dict) or "entity" not in entry:
            raise MappingFileError(f"列对应文件中工作表“{sheet}”应写明 entity（表类型，null 表示不导入）")
        columns = entry.get("columns") or {}
        row = entry.get("header_row")
        if not isinstance(columns, dict) or not all(isinstance(k, str) and (v is None or isinstance(v, str))
                                                    for k, v in columns.items()):
            raise MappingFileError(f"列对应文件中工作表“{sheet}”的 columns 应为 {{\"表头\": \"字段\" 或 null}}")
        if row is not None and (not isinstance(row, int) or isinstance(row, bool) or row < 1):
            raise MappingFileError(f"列对应文件中工作表“{sheet}”的 header_row 应为表头所在的行号（从 1 起）")
        mappings[str(sheet)] = SheetMapping(entry["entity"], dict(columns), row)
    save_as = data.get("save_as")
    if save_as is not None:
        save_as = check_name(str(save_as))
    return mappings, save_as


def check_mappings(mappings: dict[str, SheetMapping], specs: Sequence[SheetSpec]) -> None:
    """Every entity and field a mapping names exists, and no two columns go to one field (else MappingFileError)."""
    problems = []
    for sheet, mapping in mappings.items():
        if mapping.entity is None:
            continue
        spec = spec_by_key(mapping.entity, specs)
        if spec is None:
            names = "、".join(f"{x.key}（{x.title}）" for x in specs)
            problems.append(f"工作表“{sheet}”：表类型“{mapping.entity}”不存在，可用：{names}")
            continue
        seen: dict[str, str] = {}
        for text, target in mapping.columns.items():
            try:
                key = field_key(spec, target)
            except KeyError:
                fields = "、".join(c.header for c in spec.columns)
                problems.append(f"工作表“{sheet}”：“{target}”不是“{spec.title}”的字段（列“{text}”），可用：{fields}")
                continue
            if key is not None and key in seen:
                problems.append(f"工作表“{sheet}”：列“{seen[key]}”和“{text}”都对应“{spec.column(key).header}”，只能有一列")
            elif key is not None:
                seen[key] = text
    if problems:
        raise MappingFileError("列对应文件有误：" + "；".join(problems))


def check_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise MappingFileError("请给列对应起一个名称，例如“东关村党员花名册”")
    problem = length_problem(name, NAME_LENGTH, "列对应名称")
    if problem:
        raise MappingFileError(problem)
    return name


def _visible(actor: Actor) -> Any:
    """The layouts ``actor``'s imports use and the list shows: the township's, and a clerk's own village's."""
    village = permissions.visible_village(actor)
    if village is None:
        return ImportLayout.village_id.is_(None)
    return ImportLayout.village_id.is_(None) | (ImportLayout.village_id == village)


def load_layouts(conn: Connection, actor: Actor) -> dict[str, SheetMapping]:
    """The saved layouts an import by ``actor`` applies, by header fingerprint (a clerk's own village's win)."""
    found: dict[str, SheetMapping] = {}
    query = (select(ImportLayout.name, ImportLayout.fingerprint, ImportLayout.entity, ImportLayout.columns)
             .where(_visible(actor)).order_by(ImportLayout.village_id.is_not(None), ImportLayout.id))
    for name, fingerprint, entity, columns in conn.execute(query):
        found[fingerprint] = SheetMapping(entity, json.loads(columns), None, name)
    return found


def save_layout(conn: Connection, actor: Actor, name: str, fingerprint: str, entity: str | None,
                columns: dict[str, str | None]) -> None:
    """Save (or replace: same name or same header shape, for the same village) a confirmed mapping,
    in the caller's transaction. A clerk's layout serves their village's imports only."""
    permissions.require_writer(actor)
    name = check_name(name)
    village = permissions.visible_village(actor)
    same_place = ImportLayout.village_id.is_(None) if village is None else ImportLayout.village_id == village
    conn.execute(delete(ImportLayout).where(same_place, (ImportLayout.name == name)
                                            | (ImportLayout.fingerprint == fingerprint)))
    conn.execute(insert(ImportLayout).values(name=name, fingerprint=fingerprint, entity=entity or "",
                                             columns=json.dumps(columns, ensure_ascii=False, sort_keys=True),
                                             village_id=village, username=actor.username, saved_at=utcnow()))


def mark_used(conn: Connection, actor: Actor, names: set[str]) -> None:
    if names:
        conn.execute(update(ImportLayout).where(_visible(actor), ImportLayout.name.in_(sorted(names)))
                     .values(used_at=utcnow()))


class LayoutService:
    """The saved layouts for the GUI's list: everyone sees the township's and their own village's; a
    writer deletes what is theirs to change (a clerk, their village's; the township, any)."""

    def __init__(self, db: Database, actor: Actor) -> None:
        self.db, self.actor = db, actor

    def layouts(self) -> list[SavedLayout]:
        with self.db.reader() as session:
            rows = session.scalars(select(ImportLayout).where(_visible(self.actor))
                                   .order_by(ImportLayout.name, ImportLayout.id)).all()
            return [SavedLayout(r.id, r.name, r.entity, json.loads(r.columns), r.username, r.saved_at, r.used_at)
                    for r in rows]

    def delete(self, layout_id: int) -> None:
        with self.db.engine.begin() as conn:
            village = conn.scalar(select(ImportLayout.village_id).where(ImportLayout.id == layout_id))
            if village is None and not permissions.is_township_level(self.actor):
                permissions.require_township(self.actor, "删除全乡镇共用的列对应")
            permissions.require_write(self.actor, village, "列对应")
            conn.execute(delete(ImportLayout).where(ImportLayout.id == layout_id))

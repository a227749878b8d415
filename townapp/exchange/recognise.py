"""Recognising a sheet: which entity it holds, where its header is, which column is which field.

A village's own workbook is rarely our template: a title and an instruction box
above the header, a header in two banded rows (基本信息 over 姓名/性别 …), columns
we do not keep, and sometimes a sheet that only looks like ours (a 党费 ledger
has 身份证号, 姓名 and 所属党支部 too). Reading such a sheet as the nearest
entity and importing it silently is the worst outcome, so recognition says how
sure it is:

- certain: the sheet's name or headers say what it is and nothing in it belongs
  to something else; it is imported, and the report says what it was taken as
  and which columns were used and ignored;
- uncertain: columns that plainly belong elsewhere (amounts, per-quarter 积分,
  another entity's fields), or headers that match only a small part of the
  sheet. It is not imported until a person confirms a mapping — the wizard's
  列对应 step, or ``--mapping`` on the command line — which can be saved as a
  named layout and is then applied by itself the next time the same layout comes.

Qt-free and database-free: the pipeline hands in the sheets' specs and the
saved layouts.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from townapp.exchange import spec as s
from townapp.exchange.normalize import as_text, is_empty, norm_label

HEADER_SCAN_ROWS = 30
IGNORED_HEADERS = frozenset({"序号", "行号", "编号no", "no", "no.", "序"})
# unknown headers that plainly belong to another kind of sheet: money, 党费, points, quarters
_FOREIGN_WORDS = re.compile(r"党费|缴费|缴纳|应缴|实缴|补缴|金额|工资|积分|得分|加分|扣分|分值|季度|第[一二三四1-4]季"
                            r"|转出|转入|转接")
# less than this share of a sheet's header must be columns that are not the entity's (when nothing else
# says what it is): a list with as many other columns as ours is asked about, not guessed
_MAX_UNKNOWN_SHARE = 0.5


@dataclass
class Header:
    """Where the header is and which of the user's columns holds which field."""

    row_number: int  # 1-based Excel row of the (lower) header row; data start below it
    positions: dict[str, int]  # column key -> 0-based column index in the user's sheet
    labels: dict[str, str]  # column key -> the header text as in the user's file
    unknown: list[tuple[int, str]]  # extra columns: (index, text)
    duplicates: list[tuple[int, str, str]]  # (index, text, key) of a second column for the same field
    width: int
    rows: int = 1  # 2 for a banded header (a band row above the real names)
    ignored: list[tuple[int, str]] = field(default_factory=list)  # columns a mapping said to leave out
    texts: list[str] = field(default_factory=list)  # every header cell's text, by column


@dataclass(frozen=True)
class SheetMapping:
    """A person's decision for one sheet: what it is and which column is which field.

    ``entity`` None means "do not import this sheet". ``columns`` maps a header
    text as in the file to a field key (or the field's Chinese header), or to None
    to leave the column out; headers not named keep their automatic mapping.
    """

    entity: str | None
    columns: Mapping[str, str | None] = field(default_factory=dict)
    header_row: int | None = None
    layout: str | None = None  # the saved layout it came from (reported)


@dataclass
class Recognition:
    """What a sheet was taken as, and how sure that is."""

    spec: s.SheetSpec | None
    header: Header | None
    how: str  # name | headers | mapping | layout | skipped
    doubts: list[str] = field(default_factory=list)  # why a person must confirm (Chinese)
    layout: str | None = None
    fingerprint: str = ""  # the header's shape, to save a confirmed mapping under

    @property
    def certain(self) -> bool:
        return not self.doubts


# ----- labels -------------------------------------------------------------------------------
@functools.lru_cache(maxsize=512)
def label_index(spec: s.SheetSpec) -> dict[str, s.ColumnSpec]:
    """The spec's headers and aliases, reduced for matching (asked for each sheet by every spec: kept)."""
    index: dict[str, s.ColumnSpec] = {}
    for column in spec.columns:
        for label in column.labels:
            index.setdefault(norm_label(label), column)
    return index


def _row_text(row: list[Any]) -> list[str]:
    return [as_text(v).strip() if not is_empty(v) else "" for v in row]


def fingerprint(texts: Sequence[str]) -> str:
    """The shape of a header: its cells' labels in order (trailing empties cut), for saved layouts."""
    labels = [norm_label(t) for t in texts]
    while labels and not labels[-1]:
        labels.pop()
    return "|".join(labels)


def _found(labels: dict[str, s.ColumnSpec], texts: Sequence[str]) -> set[str]:
    return {labels[norm_label(t)].key for t in texts if t and norm_label(t) in labels}


def _all_text(row: list[Any]) -> bool:
    return all(is_empty(v) or isinstance(v, str) for v in row)


def _combined(upper: list[str], lower: list[str]) -> list[str]:
    """A banded header as one row: the lower row's name where it has one, else the band row's."""
    width = max(len(upper), len(lower))
    upper = upper + [""] * (width - len(upper))
    lower = lower + [""] * (width - len(lower))
    return [low or up for up, low in zip(upper, lower, strict=True)]


class SheetHead(list):  # type: ignore[type-arg]
    """A sheet's first rows, keeping their header candidates once worked out: recognition asks every
    entity about the same rows."""

    candidates: list[tuple[int, int, list[str], list[str]]] | None = None


def _normed(head: list[list[Any]]) -> list[tuple[int, int, list[str], list[str]]]:
    """``header_candidates`` with each text's matching label."""
    if isinstance(head, SheetHead) and head.candidates is not None:
        return head.candidates
    found = [(i, rows, texts, [norm_label(t) if t else "" for t in texts])
             for i, rows, texts in header_candidates(head)]
    if isinstance(head, SheetHead):
        head.candidates = found
    return found


def header_candidates(head: list[list[Any]]) -> list[tuple[int, int, list[str]]]:
    """(row index of the last header row, rows, texts) for each single row and each pair of text rows."""
    if isinstance(head, SheetHead) and head.candidates is not None:
        return [(i, rows, texts) for i, rows, texts, _ in head.candidates]
    texts = [_row_text(row) for row in head]
    found: list[tuple[int, int, list[str]]] = [(i, 1, t) for i, t in enumerate(texts)]
    for i in range(len(head) - 1):
        if _all_text(head[i]) and _all_text(head[i + 1]) and any(texts[i]) and any(texts[i + 1]):
            found.append((i + 1, 2, _combined(texts[i], texts[i + 1])))
    return found


def find_header(spec: s.SheetSpec, head: list[list[Any]]) -> Header | None:
    """The row (or banded pair of rows) among the first ones that names most of the spec's columns."""
    labels = label_index(spec)
    best: tuple[int, int, int, list[str]] | None = None  # (score, -rows, index, texts)
    candidates = _normed(head)
    singles = {i: len({labels[n].key for n in norms if n in labels}) for i, rows, _, norms in candidates if rows == 1}
    for index, rows, texts, norms in candidates:
        score = len({labels[n].key for n in norms if n in labels})
        if score < 2:
            continue
        if rows == 2:
            # a pair is a banded header only when each row names fields the other does not: never a
            # header row glued to a data row, nor a title above a complete header
            upper, lower = _row_text(head[index - 1]), _row_text(head[index])
            if singles.get(index, 0) < 2 or score <= max(singles.get(index, 0), singles.get(index - 1, 0)):
                continue
            if not _found(labels, [u for u, lo in zip(upper, lower + [""] * len(upper), strict=False) if not lo]):
                continue
        if best is None or (score, -rows) > (best[0], best[1]):
            best = (score, -rows, index, texts)
    if best is None:
        return None
    return build_header(spec, best[3], best[2] + 1, -best[1])


def build_header(spec: s.SheetSpec, texts: list[str], row_number: int, rows: int = 1,
                 columns: Mapping[str, str | None] | None = None) -> Header:
    """Which column is which field, by the spec's labels — or by a person's ``columns`` where given."""
    labels = label_index(spec)
    positions: dict[str, int] = {}
    shown: dict[str, str] = {}
    unknown: list[tuple[int, str]] = []
    ignored: list[tuple[int, str]] = []
    duplicates: list[tuple[int, str, str]] = []
    chosen = {k.strip(): v for k, v in (columns or {}).items()}
    for col, text in enumerate(texts):
        if not text:
            continue
        if text in chosen:
            key = chosen[text]
            if key is None:
                ignored.append((col, text))
                continue
            column: s.ColumnSpec | None = spec.column(key)
        else:
            column = labels.get(norm_label(text))
        if column is None:
            if norm_label(text) not in IGNORED_HEADERS:
                unknown.append((col, text))
        elif column.key in positions:
            duplicates.append((col, text, column.key))
        else:
            positions[column.key] = col
            shown[column.key] = text
    return Header(row_number, positions, shown, unknown, duplicates, len(texts), rows, ignored, list(texts))


def score(spec: s.SheetSpec, head: list[list[Any]]) -> int:
    """How well the first rows' headers fit ``spec`` (signature columns count triple); 0 without its required ones."""
    return fit(spec, head)[1]


def fit(spec: s.SheetSpec, head: list[list[Any]]) -> tuple[int, int]:
    """(columns of ``spec`` the best header row names, their score with signature columns triple);
    (0, 0) without its required ones. Entities are ranked by the first, then the second: a 党员
    roster that also carries the person's 性别 and 民族 names more 党员 columns than 人员 ones."""
    labels = label_index(spec)
    required = {c.key for c in spec.columns if c.required}
    best = (0, 0)
    for _, _, _, norms in _normed(head):
        found = {labels[n] for n in norms if n in labels}
        if not required <= {c.key for c in found}:
            continue
        best = max(best, (len(found), sum(3 if c.signature else 1 for c in found)))
    return best


def spec_by_name(name: str, specs: Sequence[s.SheetSpec]) -> tuple[s.SheetSpec | None, bool]:
    """The spec a sheet's name says, and whether the name is exactly one of its names (not only contains one)."""
    label = norm_label(name)
    for spec in specs:
        if label in {norm_label(n) for n in spec.names}:
            return spec, True
    best: tuple[int, s.SheetSpec] | None = None
    for spec in specs:
        for alias in spec.names:
            alias_label = norm_label(alias)
            if len(alias_label) >= 2 and alias_label in label and (best is None or len(alias_label) > best[0]):
                best = (len(alias_label), spec)
    return (best[1] if best else None), False


def spec_by_key(key: str, specs: Sequence[s.SheetSpec]) -> s.SheetSpec | None:
    return next((spec for spec in specs if spec.key == key), None)


def field_key(spec: s.SheetSpec, target: str | None) -> str | None:
    """A mapping's target as a column key: the key itself or the column's Chinese header (or an alias)."""
    if target is None or not str(target).strip():
        return None
    target = str(target).strip()
    if any(c.key == target for c in spec.columns):
        return target
    column = label_index(spec).get(norm_label(target))
    if column is None:
        raise KeyError(target)
    return column.key


# ----- how sure -----------------------------------------------------------------------------
def doubts(spec: s.SheetSpec, header: Header, named: bool, rival: s.SheetSpec | None = None,
           sheet_name: str = "") -> list[str]:
    """Why this sheet should not be imported as ``spec`` without a person's word (empty: sure).

    Columns that describe the same record (备注, 家庭住址, 网格名称 on a roster) are only left out
    with a warning; what makes a sheet doubtful is a column (or a sheet name) of another kind of
    record — money, 党费, points, quarters, transfers — a header of which most columns are not the entity's, or another
    entity whose columns fit the headers just as well (``rival``).
    """
    found: list[str] = []
    own_names = "".join(norm_label(n) for n in spec.names)
    words = {w for w in _FOREIGN_WORDS.findall(norm_label(sheet_name)) if w not in own_names}
    if words:
        found.append(f"工作表名中有“{'、'.join(sorted(words))}”，不像“{spec.title}”表")
    foreign = [f"“{text}”" for _, text in header.unknown if _FOREIGN_WORDS.search(norm_label(text))]
    if foreign:
        found.append(f"有不属于“{spec.title}”的列：{'、'.join(foreign[:5])}{'等' if len(foreign) > 5 else ''}")
    counted = len(header.positions) + len(header.unknown)
    if not named and counted and len(header.unknown) >= _MAX_UNKNOWN_SHARE * counted:
        found.append(f"表头 {counted} 列中只有 {len(header.positions)} 列对得上“{spec.title}”")
    elif not named:
        keys = {*spec.key_columns, *(c.key for c in spec.columns if c.required)}
        rest = [spec.column(k) for k in header.positions if k not in keys]
        if rest and all(c.kind in (s.TEXT, s.PHONE) for c in rest):
            # a 物资领取 or 志愿者 list: its only other columns would overwrite people's notes and phones
            found.append(f"除{'、'.join(header.labels[k] for k in header.positions if k in keys)}外，只有"
                         f"{'、'.join(f'“{header.labels[c.key]}”' for c in rest)}对得上“{spec.title}”")
    if rival is not None:
        found.append(f"表头同样像“{rival.title}”表")
    return found


def recognise(name: str, head: list[list[Any]], specs: Sequence[s.SheetSpec],
              mapping: SheetMapping | None = None, layouts: Mapping[str, SheetMapping] | None = None,
              order: Mapping[str, int] | None = None) -> Recognition:
    """Take a sheet as one of ``specs``: by a person's mapping, a saved layout, its name, or its headers."""
    head = head if isinstance(head, SheetHead) else SheetHead(head)
    if mapping is None and layouts:
        for index, _rows, texts in header_candidates(head):
            saved = layouts.get(fingerprint(texts))
            if saved is not None:
                mapping = SheetMapping(saved.entity, saved.columns, index + 1, saved.layout)
                break
    if mapping is not None:
        return _by_mapping(mapping, head, specs)
    spec, named = spec_by_name(name, specs)
    how = "name"
    rival = runner_up = None
    if spec is None or (not named and score(spec, head) == 0):
        ranks = order or {x.key: i for i, x in enumerate(specs)}
        scored = sorted(((fit(x, head), -ranks.get(x.key, 0), x) for x in specs), key=lambda t: (t[0], t[1]),
                        reverse=True)
        best, _, candidate = scored[0] if scored else ((0, 0), 0, None)
        if best[1] >= 3:
            spec, how = candidate, "headers"
            rival = scored[1][2] if len(scored) > 1 and scored[1][0] == best else None
            runner_up = scored[1][2] if len(scored) > 1 and scored[1][0][0] > 0 else None
    if spec is None:
        return Recognition(None, None, "none")
    header = find_header(spec, head)
    named_as = None
    if header is not None and how == "name":
        wider = _wider(spec, header, head, specs)
        if wider is not None:  # a sheet named 花名册 (人员) whose headers are a 党员 roster's: which is it?
            named_as, (spec, header, how) = spec, wider
    if header is None:
        return Recognition(spec, None, how)
    found = doubts(spec, header, named and how == "name", rival, name)
    if how == "headers" and runner_up is not None and rival is None:
        found.extend(_blank_difference(spec, header, runner_up, head))
    if named_as is not None:
        # taking it as 党员 would make every row a member (a 人口 list with an 入党时间 column), taking it as
        # 人员 drops its party columns: a person says which
        found.append(f"工作表名是“{named_as.title}”表的名字，表头却更像“{spec.title}”表")
    return Recognition(spec, header, how, found, fingerprint=fingerprint(header.texts))


def _blank_difference(spec: s.SheetSpec, header: Header, smaller: s.SheetSpec,
                      head: list[list[Any]]) -> list[str]:
    """Taken by its headers as ``spec`` over ``smaller``, whose columns it all has, a sheet must fill the
    columns that make the difference on every row: a 人口 list with an 入党时间 column filled for a few
    is not a 党员 roster (each row would become a member)."""
    other = find_header(smaller, head)
    if other is None or other.row_number != header.row_number:
        return []
    theirs = set(other.labels.values())
    if not theirs <= set(header.labels.values()):
        return []
    extra = [header.positions[k] for k, text in header.labels.items() if text not in theirs]
    if not extra:
        return []
    for raw in head[header.row_number:]:
        if all(is_empty(v) for v in raw):
            continue
        if all(i >= len(raw) or is_empty(raw[i]) for i in extra):
            shown = "、".join(f"“{header.labels[k]}”" for k in header.positions if header.positions[k] in extra)
            return [f"有的行{shown}都是空的，不像“{spec.title}”表（也可能是“{smaller.title}”表）"]
    return []


def _wider(spec: s.SheetSpec, header: Header, head: list[list[Any]],
           specs: Sequence[s.SheetSpec]) -> tuple[s.SheetSpec, Header, str] | None:
    """Another entity whose columns the headers name more of, including every column ``spec`` uses: the
    sheet's name is a general one (花名册, 名册) and its headers say what it is."""
    used = set(header.labels.values())
    best: tuple[int, s.SheetSpec, Header] | None = None
    for other in specs:
        if other.key == spec.key or fit(other, head)[0] <= len(header.positions):
            continue
        wider = find_header(other, head)
        if (wider is not None and wider.row_number == header.row_number and used <= set(wider.labels.values())
                and (best is None or len(wider.positions) > best[0])):
            best = (len(wider.positions), other, wider)
    return (best[1], best[2], "headers") if best else None


def _by_mapping(mapping: SheetMapping, head: list[list[Any]], specs: Sequence[s.SheetSpec]) -> Recognition:
    how = "layout" if mapping.layout else "mapping"
    if mapping.entity is None:
        return Recognition(None, None, "skipped", layout=mapping.layout)
    spec = spec_by_key(mapping.entity, specs)
    if spec is None:
        names = "、".join(f"{x.key}（{x.title}）" for x in specs)
        return Recognition(None, None, how, [f"列对应中的表类型“{mapping.entity}”不存在，可用：{names}"],
                           layout=mapping.layout)
    columns: dict[str, str | None] = {}
    problems = []
    for text, target in mapping.columns.items():
        try:
            columns[text.strip()] = field_key(spec, target)
        except KeyError:
            problems.append(f"“{target}”不是“{spec.title}”的字段（列“{text}”）")
    if problems:
        return Recognition(spec, None, how, problems, layout=mapping.layout)
    header = _mapped_header(spec, head, mapping, columns)
    if header is None:
        return Recognition(spec, None, how, ["找不到列对应中的表头行：文件的表头与列对应中的列名对不上"],
                           layout=mapping.layout)
    missing = [text for text in columns if text not in header.texts]
    if missing:  # a typo in the mapping must not pass as "column left out"
        return Recognition(spec, None, how, [f"列对应中的列{'、'.join(f'“{t}”' for t in missing)}在表头（第"
                                             f"{header.row_number}行）中找不到，请核对列名"], layout=mapping.layout)
    return Recognition(spec, header, how, layout=mapping.layout, fingerprint=fingerprint(header.texts))


def _mapped_header(spec: s.SheetSpec, head: list[list[Any]], mapping: SheetMapping,
                   columns: dict[str, str | None]) -> Header | None:
    candidates = header_candidates(head)
    if mapping.header_row is not None:
        wanted = mapping.header_row - 1
        pairs = [c for c in candidates if c[0] == wanted]
        if not pairs:
            return None
        # the banded pair when its band row names more of the mapping than the lower row alone
        index, rows, texts = max(pairs, key=lambda c: (sum(1 for t in c[2] if t in columns), -c[1]))
        return build_header(spec, texts, index + 1, rows, columns)
    labels = label_index(spec)
    best: tuple[int, int, int, list[str]] | None = None
    for index, rows, texts in candidates:
        hits = sum(1 for t in texts if t in columns) + len(_found(labels, [t for t in texts if t not in columns]))
        if hits >= 2 and (best is None or (hits, -rows) > (best[0], best[1])):
            best = (hits, -rows, index, texts)
    if best is None:
        return None
    return build_header(spec, best[3], best[2] + 1, -best[1], columns)

"""The township's package for one village install: its rules, its schemes and that village's results.

A village install (``townapp init --village``) is a 村录入员's own laptop with
one village. It sends its village up as an ordinary sync package (the
township imports it as that village's clerk would: a row about another
village's person is a ``conflict``). What comes back down is what the
township decided: each year's 积分规则 and each 评定方案 (stored in the village
as new versions when they differ; the same package twice changes nothing) and
the village's own 评定结果 (kept as reported, see ``county.copies``). Nobody
else's people travel down: the package holds no registry sheet.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from townapp.core import permissions
from townapp.core.actor import ROLE_ADMIN, Actor
from townapp.core.errors import DomainError
from townapp.county.copies import ReportedAdapter
from townapp.db import Database
from townapp.evaluations.service import EvaluationService
from townapp.exchange import spec as s
from townapp.exchange.package import PackageResult, write_package
from townapp.points.service import PointsService
from townapp.registry.service import RegistryService

RULES_SHEET, SCHEMES_SHEET, RESULTS_SHEET = "issued_rules", "issued_scheme", "village_result"
Receive = Callable[[Session, dict[str, Any], str, bool], str]


class IssuedAdapter(s.SheetAdapter):
    """What the township decided, received by a village install through the module's service."""

    def __init__(self, entity: str, rows: Callable[[], Iterator[dict[str, Any]]], receive: Receive) -> None:
        self.entity = entity
        self._rows = rows
        self._receive = receive

    def export_rows(self, conn: Connection, township_code: str | None) -> Iterator[dict[str, Any]]:
        return self._rows()

    def _source(self, ctx: s.ImportContext) -> str:
        return f"{ctx.township_name}下发"

    def match(self, conn: Connection, rows: list[s.Row], ctx: s.ImportContext) -> None:
        village = ctx.db.meta("village_code")
        with Session(bind=conn) as session:
            for row in rows:
                if row.failed:
                    continue
                if village is None:  # a township (or county) importing such a package: its own rules stand
                    row.action, row.entity_id = "unchanged", 0
                    continue
                try:
                    row.action = self._receive(session, row.values, self._source(ctx), False)
                    row.entity_id = 0
                except DomainError as exc:
                    ctx.error(row, None, "refused", exc.message)

    def apply(self, conn: Connection, rows: list[s.Row], ctx: s.ImportContext) -> None:
        good = [r for r in rows if not r.failed and r.action == "created"]
        if not good or ctx.db.meta("village_code") is None:
            return
        with Session(bind=conn, join_transaction_mode="rollback_only") as session:
            for row in good:
                self._receive(session, row.values, self._source(ctx), True)
            session.flush()

    def delete(self, conn: Connection, ids: list[int], ctx: s.ImportContext) -> None:
        return None


# who writes the township's rules and schemes into a village install: the township decided them, not the
# clerk importing the file (receive_* accept them only in a village install)
ISSUER = Actor("乡镇下发", ROLE_ADMIN)


def issued_sheets(db: Database, village_code: str | None = None) -> list[s.SheetSpec]:
    """积分规则, 评定方案 and (for ``village_code``) that village's 评定结果, as the township sends them down."""
    from townapp.evaluations.sheets import RESULT_SHEET, reported_specs

    points = PointsService(db, ISSUER)
    evaluations = EvaluationService(db, ISSUER)

    def rules() -> Iterator[dict[str, Any]]:
        for year, version, digest, definition in points.current_rule_sets():
            yield {"year": year, "version": version, "digest": digest, "definition": definition}

    def schemes() -> Iterator[dict[str, Any]]:
        for key, version, digest, definition in evaluations.current_schemes():
            yield {"key": key, "version": version, "digest": digest, "definition": definition}

    def receive_rules(session: Session, v: dict[str, Any], source: str, write: bool) -> str:
        return PointsService(db, ISSUER).receive_rule_set(session, v["year"], v["definition"],
                                                                f"{source}（第{v.get('version')}版）", write=write)

    def receive_scheme(session: Session, v: dict[str, Any], source: str, write: bool) -> str:
        return EvaluationService(db, ISSUER).receive_scheme(session, v["definition"],
                                                                 f"{source}（第{v.get('version')}版）", write=write)

    c = s.ColumnSpec
    sheets = [
        s.SheetSpec(key=RULES_SHEET, title="下发积分规则", package_only=True,
                    adapter=IssuedAdapter(RULES_SHEET, rules, receive_rules),
                    description="乡镇各年度现行的积分规则（完整定义），村级安装导入后按此计分。",
                    columns=(c("year", "年度", s.INT, required=True, width=8), c("version", "乡镇版本", s.INT, width=8),
                             c("digest", "摘要", s.TEXT, width=20), c("definition", "规则定义", s.TEXT, required=True,
                                                                       width=60)),
                    key_columns=("year",)),
        s.SheetSpec(key=SCHEMES_SHEET, title="下发评定方案", package_only=True,
                    adapter=IssuedAdapter(SCHEMES_SHEET, schemes, receive_scheme),
                    description="乡镇现行的各评定方案（完整定义），村级安装导入后按此填报。",
                    columns=(c("key", "方案编码", s.TEXT, required=True, width=20),
                             c("version", "乡镇版本", s.INT, width=8), c("digest", "摘要", s.TEXT, width=20),
                             c("definition", "方案定义", s.TEXT, required=True, width=60)),
                    key_columns=("key",)),
    ]
    if village_code is not None:
        results = next(spec for spec in reported_specs() if spec.key == RESULT_SHEET)
        every = results.adapter.export_rows

        def village_rows(conn: Connection) -> Iterator[dict[str, Any]]:
            return (row for row in every(conn, None) if row.get("village_code") == village_code)
        sheets.append(s.SheetSpec(
            key=RESULTS_SHEET, title="本村评定结果", package_only=True, columns=results.columns,
            adapter=ReportedAdapter(RESULTS_SHEET, village_rows, lambda v: str(v["uuid"]),
                                    lambda v: str(v["round_uuid"]), keep_in_village=True),
            description="本村在乡镇各轮评定中的结果（等级、名次、得分、否决及原因）。", key_columns=("uuid",)))
    return sheets


def export_for_village(db: Database, actor: Actor, village_code: str, out: Path | str, *,
                       password: str | None = None) -> PackageResult:
    """The township's package for one village install (no registry: nobody's ID numbers travel down)."""
    permissions.require_township(actor, "导出下发村级的数据包")
    if db.meta("mode") != "township" or db.meta("village_code") is not None:
        raise DomainError("下发村级的数据包只能由乡镇数据库导出")
    if all(v.code != village_code for v in RegistryService(db, actor).villages()):
        raise DomainError(f"本乡镇没有区划代码为 {village_code} 的村")
    return write_package(db, issued_sheets(db, village_code), out, actor=actor, password=password,
                         village=village_code)

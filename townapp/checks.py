"""All consistency checks in one list (composition root, like schema.py): the database's own, then each
module's as registered in townapp/modules.py."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from sqlalchemy.exc import DatabaseError

from townapp import config
from townapp.core.errors import CheckReport, DomainError
from townapp.db import Database, migrate
from townapp.db.checks import database_checks, file_problems, stored_value_problems
from townapp.modules import Check, module_checks

log = logging.getLogger(__name__)


def integrity_checks(db: Database, report: CheckReport, facts: dict) -> None:
    """The database's own checks: SQLite's integrity and foreign-key checks, or on a server its own
    (constraints not validated, rows whose parent is gone), then the schema revision."""
    if not db.server:
        database_checks(db, report, facts)
        return
    from townapp.db.server import server_integrity

    with db.engine.connect() as conn:
        findings, orphans = server_integrity(conn)
    facts["integrity"] = "ok" if not findings else findings[:20]
    facts["foreign_key_violations"] = orphans
    report.errors.extend(findings)
    current, head = migrate.current_revision(db.engine), migrate.head_revision()
    facts["schema_revision"], facts["head_revision"] = current, head
    if current != head:
        report.errors.append(f"数据库结构版本为 {current}，程序要求 {head}")


def stored_value_checks(db: Database, report: CheckReport, facts: dict) -> None:
    """Every stored value against its model column's type (a flipped byte no index holds, a date that is
    not one, text where a number belongs, bytes that are not UTF-8): table, row id, column, what.
    A server keeps every value in its column's type: nothing to find there."""
    from townapp.schema import metadata

    if db.server:
        facts["damaged_values"] = 0
        return

    connection = db.engine.raw_connection()
    try:
        problems = stored_value_problems(connection.driver_connection, metadata.sorted_tables)
    finally:
        connection.close()
    facts["damaged_values"] = len(problems)
    report.errors.extend(f"数据已损坏：{p}" for p in problems)


def result_checks(db: Database, report: CheckReport, facts: dict) -> None:
    """Archive stars, creation levels and the pay on them equal the finalised 定级 results (townapp/consistency.py)."""
    from townapp.consistency import result_checks as check

    check(db, report, facts)


CHECKS: tuple[Check, ...] = (integrity_checks, stored_value_checks, *module_checks(), result_checks)


def _run(db: Database, report: CheckReport, facts: dict, checks: tuple[Check, ...] = ()) -> None:
    """The checks in order; once damaged values are found the domain checks, which read them, are skipped."""
    checks = checks or CHECKS
    for number, check in enumerate(checks, 1):
        check(db, report, facts)
        if facts.get("damaged_values") and number < len(checks):
            report.errors.append("存储的数据已损坏，其余的一致性检查没有进行。请从备份恢复（townapp restore），"
                                 "或请技术人员按上面列出的位置修复")
            return


def run_checks(db: Database) -> tuple[CheckReport, dict]:
    """Run every check; returns the report and facts (integrity, revision, counts)."""
    report, facts = CheckReport(), {}
    _run(db, report, facts)
    return report, facts


def check_database_file(path: Path | str, *, quick: bool = False) -> tuple[CheckReport, dict]:
    """``townapp check``: the file as it is — damaged, foreign, empty or healthy — without changing a byte.

    The file's own problems (empty, not SQLite, cut short, damaged pages, foreign
    schema, triggers or views we never create, a newer revision) come first; only
    a file that passes them is opened (read-only, never migrated) for the
    consistency checks. A read that fails on damage is reported, never raised.
    ``quick``: the file, SQLite's checks and the stored values only, not the domain's consistency
    (what the command line runs after an unexpected error, to tell damage from a fault of its own).
    """
    from townapp.db.engine import open_readonly
    from townapp.db.server import is_server_url
    from townapp.schema import metadata

    if is_server_url(path):
        return check_server(str(path), quick=quick)
    report, facts = CheckReport(), {}
    problems = file_problems(path, metadata.tables.keys())
    if problems:
        facts["integrity"] = problems[:5]
        report.errors.extend(problems)
        return report, facts
    facts["integrity"] = "ok"
    db = open_readonly(path)
    try:
        _run(db, report, facts, CHECKS[:2] if quick else CHECKS)
    except (sqlite3.DatabaseError, DatabaseError):
        log.exception("检查时读取数据出错：%s", path)
        report.errors.append(f"读取数据时出错，数据库已损坏（SQLite 的原文已记入日志 {config.log_path()}）。"
                             "请从备份恢复（townapp restore）")
    except (ValueError, TypeError, UnicodeError):  # a damaged value the value scan did not foresee
        log.exception("检查时读取到无法解析的值：%s", path)
        report.errors.append(f"数据库中有无法读取的值，数据已损坏（详见日志 {config.log_path()}）。"
                             "请从备份恢复（townapp restore）")
    finally:
        db.dispose()
    return report, facts


def check_server(url: str, *, quick: bool = False) -> tuple[CheckReport, dict]:
    """``townapp check`` on a PostgreSQL database: every transaction read-only, never migrated; the same
    checks as on a file (each asks the server its own way)."""
    from townapp.db import server
    from townapp.db.engine import Database
    from townapp.db.server import open_for_check

    report, facts = CheckReport(), {}
    try:
        engine = open_for_check(url, server.terminal_prompt())
    except DomainError as exc:
        report.errors.append(exc.message)
        return report, facts
    db = Database(None, engine)
    try:
        _run(db, report, facts, CHECKS[:2] if quick else CHECKS)
    finally:
        db.dispose()
    return report, facts


# ----- an unexpected error: was it the database? (the CLI's error handler and the GUI's safety net) -----
_DAMAGE_WORDS = ("malformed", "not a database", "file is encrypted", "disk image")


def _is_damage_error(exc: BaseException) -> bool:
    """SQLite saying the file is damaged ("database disk image is malformed", "file is not a database")."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        original = getattr(current, "orig", None) if isinstance(current, DatabaseError) else current
        if isinstance(original, sqlite3.DatabaseError) and any(w in str(original) for w in _DAMAGE_WORDS):
            return True
        current = current.__cause__ or current.__context__
    return False


CLI_ADVICE = "请运行 townapp check 查看详情，或从备份恢复（townapp restore）。"
GUI_ADVICE = "请在“备份与恢复”页用最近的完好备份恢复，或请技术人员运行 townapp check 查看详情。"


def damage_behind(exc: BaseException, db: Path | str | None, advice: str = CLI_ADVICE,
                  what: str = "命令") -> str | None:
    """A Chinese refusal when an unexpected error came from a damaged database, else None.

    SQLite's "malformed"/"not a database" says so itself; for anything else (a date that is not one,
    a table gone) the read-only check ``townapp check`` uses, in its quick form, looks at the file."""
    if not db or not Path(db).is_file():
        return None
    if _is_damage_error(exc):
        return f"数据库文件已损坏：{db}，无法继续，没有做任何改动。{advice}"
    try:
        report, _facts = check_database_file(Path(db), quick=True)
    except Exception:  # noqa: BLE001 — the check itself failed: the first error stands as unexpected
        log.exception("出错后检查数据库时又出错：%s", db)
        return None
    if report.ok:
        return None
    found = "；".join(report.errors[:3]) + (f"（共 {len(report.errors)} 处）" if len(report.errors) > 3 else "")
    return f"数据库 {db} 已损坏或不完整，{what}没有完成：{found}。{advice}"

"""``townapp check`` on damaged and foreign databases: always a Chinese report and exit 1, never a change.

Story: the township's database file comes back from a repair shop, a USB stick
pulled mid-copy, or another program. The administrator runs ``townapp check``:
whatever the file is, the answer is a sentence saying what is wrong (exit 1,
never 3 "发生意外错误"), and the check itself changes nothing — not a byte, not
the mtime, no file beside it.

What SQLite can and cannot see: ``integrity_check`` compares every index with
its table, so a byte flipped inside an *indexed* value (a name) is found; a
byte flipped inside a value no index holds is invisible to SQLite (the page is
still well formed) — that would need a record checksum, which we chose not to
add: every write path would have to maintain it, and the indexed columns (ID
number, name) are the ones that identify a person.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.db.safety_support import add_people
from tests.figures import record
from townapp.cli import main
from townapp.db import Database
from townapp.db.engine import APPLICATION_ID
from townapp.registry.dto import VillageInput
from townapp.registry.service import RegistryService

RESULTS: dict[str, bool] = {}


@pytest.fixture
def healthy(db: Database, tmp_path: Path) -> Path:
    """A closed, checkpointed township database with 300 people (several pages per table)."""
    RegistryService(db).save_village(VillageInput(code="140821100201", name="西关村"))
    add_people(db, 300)
    db.dispose()
    path = tmp_path / "healthy.db"
    shutil.copyfile(db.path, path)
    assert not Path(str(db.path) + "-wal").exists()
    return path


def _sql(*statements: str) -> Callable[[Path], None]:
    def damage(path: Path) -> None:
        con = sqlite3.connect(path)
        for statement in statements:
            con.execute(statement)
        con.commit()
        con.execute("PRAGMA journal_mode=DELETE")
        con.close()
    return damage


def _root_page(path: Path, table: str) -> int:
    con = sqlite3.connect(path)
    try:
        return con.execute("SELECT rootpage FROM sqlite_master WHERE name=?", (table,)).fetchone()[0]
    finally:
        con.close()


def _damaged_page(path: Path) -> None:
    data = bytearray(path.read_bytes())
    page = 4096 * (len(data) // 4096 // 2)
    data[page:page + 4096] = bytes(b ^ 0xFF for b in data[page:page + 4096])
    path.write_bytes(bytes(data))


def _damaged_btree_header(path: Path) -> None:
    start = 4096 * (_root_page(path, "village") - 1)
    data = bytearray(path.read_bytes())
    data[start] = 0x07  # not one of the four b-tree page types
    data[start + 3:start + 5] = b"\xff\xff"  # cell count far beyond the page
    path.write_bytes(bytes(data))


def _flipped_indexed_value(path: Path) -> None:
    data = bytearray(path.read_bytes())
    at = data.find("测试137".encode())
    assert at > 0
    data[at + len("测试13".encode())] = ord("x")  # one byte of one copy of the name (table or index)
    path.write_bytes(bytes(data))


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2 + 100])


def _foreign_sqlite(path: Path, application_id: int = 0) -> None:
    path.unlink()
    con = sqlite3.connect(path)
    con.execute(f"PRAGMA application_id={application_id}")
    con.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    con.execute("INSERT INTO customers (name) VALUES ('张三')")
    con.commit()
    con.close()


VARIANTS: dict[str, tuple[Callable[[Path], None], str]] = {
    "损坏的页": (_damaged_page, "损坏"),
    "损坏的B树页头": (_damaged_btree_header, "损坏"),
    "缺少 alembic_version": (_sql("DROP TABLE alembic_version"), "结构版本"),
    "0字节": (lambda p: p.write_bytes(b""), "文件是空的（0字节），不是数据库"),
    "被截断": (_truncate, "不完整"),
    "随机字节": (lambda p: p.write_bytes(os.urandom(8192)), "不是 SQLite"),
    "别的程序的 SQLite 数据库": (_foreign_sqlite, "不是 townapp"),
    "带有本程序标识的外来数据库": (lambda p: _foreign_sqlite(p, APPLICATION_ID), "结构版本"),
    "删除审计记录的触发器": (_sql("CREATE TRIGGER hide AFTER INSERT ON audit_entry BEGIN "
                                "DELETE FROM audit_entry WHERE id = NEW.id; END"), "触发器"),
    "视图": (_sql("CREATE VIEW everyone AS SELECT * FROM person"), "触发器或视图"),
    "多出的数据表": (_sql("CREATE TABLE stolen (id_number TEXT)"), "不会建立的数据表"),
    "有索引的值中翻转了一个字节": (_flipped_indexed_value, "完整性"),
    "日期值被改坏": (_sql("UPDATE person SET birth_date = '19x0-01-01' WHERE id = (SELECT min(id) FROM person)"),
                "无法读取的值"),
    "更新版本的结构": (_sql("UPDATE alembic_version SET version_num='9999'"), "更新版本"),
    "扩展名为 .db 的文本文件": (lambda p: p.write_text("姓名,电话\n张三,13900000000\n", encoding="utf-8"), "文本文件"),
}


def _fingerprint(folder: Path, path: Path) -> tuple[str, int, list[str]]:
    return (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns,
            sorted(p.name for p in folder.iterdir()))


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_check_reports_a_damaged_or_foreign_file_and_changes_nothing(
        healthy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], variant: str) -> None:
    """GIVEN a database file damaged or foreign in one way, alone in its folder
    WHEN ``townapp check --db`` runs on it
    THEN it exits 1 (never 3) with a Chinese sentence naming the problem, and the file (bytes, mtime)
    and its folder are exactly as before."""
    damage, expected = VARIANTS[variant]
    folder = tmp_path / "检查"
    folder.mkdir()
    path = folder / "临晋镇.db"
    shutil.copyfile(healthy, path)
    damage(path)
    os.utime(path, ns=(1_600_000_000_000_000_000, 1_600_000_000_000_000_000))
    before = _fingerprint(folder, path)
    code = main(["check", "--db", str(path)])
    output = capsys.readouterr()
    text = output.out + output.err
    RESULTS[variant] = code == 1 and expected in text and "意外" not in text
    assert code == 1, text
    assert expected in text and "意外" not in text, text
    assert _fingerprint(folder, path) == before


def test_check_of_a_healthy_database_passes_and_changes_nothing(
        db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    """GIVEN a healthy, closed database WHEN checked THEN exit 0 and not a byte or mtime changed
    (no journal-mode switch, no application_id, no migration)."""
    RegistryService(db).save_village(VillageInput(code="140821100201", name="西关村"))
    db.dispose()
    healthy = db.path
    before = _fingerprint(healthy.parent, healthy)
    assert main(["check", "--db", str(healthy)]) == 0, capsys.readouterr()
    assert "检查通过" in capsys.readouterr().out
    assert _fingerprint(healthy.parent, healthy) == before


def test_report_figure() -> None:
    ok = sum(RESULTS.values())
    record("损坏数据库检出", f"{ok}/{len(VARIANTS)}")
    assert len(RESULTS) == len(VARIANTS) and ok == len(VARIANTS)


def test_check_of_a_live_database_with_an_audit_deleting_trigger(
        db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    """GIVEN the database open in the app (its log not yet checkpointed) and a trigger slipped in that
    deletes audit entries WHEN ``townapp check`` runs beside the running app
    THEN it reports the trigger (exit 1) and the database file's bytes and mtime stay as they were."""
    RegistryService(db).save_village(VillageInput(code="140821100201", name="西关村"))
    with db.engine.begin() as conn:
        conn.exec_driver_sql("CREATE TRIGGER hide AFTER INSERT ON audit_entry BEGIN "
                             "DELETE FROM audit_entry WHERE id = NEW.id; END")
    assert Path(f"{db.path}-wal").exists()
    before = (hashlib.sha256(db.path.read_bytes()).hexdigest(), db.path.stat().st_mtime_ns)
    assert main(["check", "--db", str(db.path)]) == 1
    output = capsys.readouterr()
    assert "触发器" in output.out + output.err and "hide" in output.out + output.err
    assert (hashlib.sha256(db.path.read_bytes()).hexdigest(), db.path.stat().st_mtime_ns) == before

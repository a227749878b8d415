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
import re
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
                "birth_date 不是有效的日期"),
    "姓名中的无效 UTF-8": (_sql("UPDATE person SET name = CAST(x'E78E8BCF' AS TEXT) WHERE id = "
                             "(SELECT min(id) FROM person)"), "name 含有无效的文字编码"),
    "时间戳中翻转的字节": (_sql("UPDATE person SET updated_at = CAST(x'323032362D30372D30312030393A30303A30302E"
                             "CF3030303030' AS TEXT) WHERE id = (SELECT max(id) FROM person)"),
                  "updated_at 不是有效的日期时间"),
    "整数列中的文字": (_sql("UPDATE person SET village_id = 'abc' WHERE id = (SELECT min(id) FROM person)"),
                "village_id 应为整数"),
    "文字列中的二进制数据": (_sql("UPDATE village SET name = x'00ff'"), "name 应为文字，实际存的是二进制数据"),
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
    assert not re.search("[A-Za-z]{3,}Error|malformed|in database main", text), text  # no English from SQLite
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
    """Runs after the check variants; the command variants are counted in test_zz_report_all_figures."""
    assert all(RESULTS.get(v) for v in VARIANTS)


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


# ----- the other commands on damaged files: a Chinese refusal (exit 1), never 3, the file unchanged --------
def _bad_index(path: Path) -> None:
    """An index whose root page points at another b-tree (what a flipped byte in sqlite_master does)."""
    con = sqlite3.connect(path)
    con.execute("PRAGMA writable_schema=ON")
    con.execute("UPDATE sqlite_master SET rootpage = rootpage + 1 WHERE type = 'index' AND name LIKE 'ix_person%'")
    con.commit()
    con.close()


def _in_wal(statement: str) -> Callable[[Path], None]:
    """Damage left in WAL mode, as the app leaves its file (opening it then changes no byte)."""
    def damage(path: Path) -> None:
        con = sqlite3.connect(path)
        con.execute(statement)
        con.commit()
        con.close()
    return damage


def _broken_reference(path: Path) -> None:
    con = sqlite3.connect(path)
    con.execute("PRAGMA foreign_keys=OFF")
    con.execute("UPDATE person SET village_id = 99999 WHERE id = (SELECT min(id) FROM person)")
    con.commit()
    con.close()


COMMAND_VARIANTS: dict[str, tuple[Callable[[Path], None], str, str]] = {
    "数据包：日期值被改坏": (_in_wal("UPDATE person SET birth_date = 'garbage' WHERE id = (SELECT min(id) FROM person)"),
                    "package", "birth_date 不是有效的日期"),
    "数据包：删掉的数据表": (_sql("PRAGMA foreign_keys=OFF", "DROP TABLE party_member"), "package", "party_member"),
    "数据包：损坏的页": (_damaged_page, "package", "损坏"),
    "数据包：引用的村不存在": (_broken_reference, "package", "表 person 有 1 行引用的 village 记录不存在"),
    "数据包：索引的根页被改": (_bad_index, "package", "快速检查发现"),
    "导入：损坏的页": (_damaged_page, "import", "损坏"),
    "导入：结构版本记录是空的": (_sql("DELETE FROM alembic_version"), "import", "结构版本记录是空的"),
    "备份：文件头是乱码": (lambda p: p.write_bytes(b"NOT SQLITE FORMAT" + p.read_bytes()[17:]), "backup", "没有备份"),
    "备份：随机字节": (lambda p: p.write_bytes(os.urandom(200_000)), "backup", "没有备份"),
    "备份：被截断": (_truncate, "backup", "没有备份"),
    "备份：0字节": (lambda p: p.write_bytes(b""), "backup", "没有备份"),
    "备份：别的程序的数据库": (_foreign_sqlite, "backup", "不是 townapp 的数据库"),
    "备份：带有本程序标识的外来数据库": (lambda p: _foreign_sqlite(p, APPLICATION_ID), "backup", "不是 townapp 的数据库"),
    "备份：索引的根页被改": (_bad_index, "backup", "损坏"),
}


def _command(kind: str, path: Path, folder: Path, tmp_path: Path) -> list[str]:
    if kind == "package":
        return ["export", "package", "--db", str(path), "--out", str(tmp_path / "out" / "包.xlsx")]
    if kind == "backup":
        return ["backup", "--db", str(path), "--out", str(tmp_path / "out")]
    from tests.db.safety_support import make_import_file

    return ["import", "--db", str(path), str(make_import_file(tmp_path / "导入.xlsx", 1, 0))]


@pytest.mark.parametrize("variant", list(COMMAND_VARIANTS))
def test_commands_refuse_a_damaged_database_in_chinese(
        healthy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], variant: str) -> None:
    """GIVEN a database damaged in one way (a bad date, a dropped table, a damaged page or index, a broken
    reference, an emptied revision record), or a file that is no townapp database at all
    WHEN ``export package``, ``import`` or ``backup`` runs on it
    THEN exit 1 (never 3 "发生意外错误") with a Chinese sentence naming the damage, no English from SQLite,
    no package or backup written, and the database file unchanged."""
    damage, kind, expected = COMMAND_VARIANTS[variant]
    folder = tmp_path / "库"
    folder.mkdir()
    path = folder / "临晋镇.db"
    shutil.copyfile(healthy, path)
    damage(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    code = main(_command(kind, path, folder, tmp_path))
    output = capsys.readouterr()
    text = output.out + output.err
    RESULTS[variant] = code == 1 and expected in text and "意外" not in text
    assert code == 1, text
    assert expected in text and "意外" not in text, text
    assert not re.search("[A-Za-z]{3,}Error|malformed|in database main", text), text
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest


def test_zz_report_all_figures() -> None:
    """损坏数据库检出 n/n: every variant, by ``check`` and by the commands, reported correctly."""
    total = len(VARIANTS) + len(COMMAND_VARIANTS)
    ok = sum(RESULTS.values())
    record("损坏数据库检出", f"{ok}/{total}")
    assert len(RESULTS) == total and ok == total


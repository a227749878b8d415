"""SIGKILL at random moments during writes, imports and backups: nothing acknowledged is lost, nothing half-done.

Each story runs a worker process (tests/db/crash_worker.py) on a copy of one
database and kills it with SIGKILL after a seeded random delay — the power
cut or the task manager's "end process". Then the database is opened again
as the app would: integrity ok, no foreign-key violations, every commit the
worker acknowledged present, an import all or nothing, every finished backup good.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import time
import traceback
from pathlib import Path

import pytest

from tests.db import crash_worker
from tests.db.safety_support import add_people, make_import_file
from tests.figures import record
from townapp.db import open_database
from townapp.db.backup import BACKUP_NAME, integrity_problems
from townapp.registry.dto import VillageInput
from townapp.registry.service import RegistryService

RUNS = 20
IMPORT_ROWS = 2000

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not hasattr(os, "fork"), reason="SIGKILL 与 fork 仅在 Linux 上有")]


@pytest.fixture(scope="module")
def template(migrated_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("crash") / "template.db"
    shutil.copyfile(migrated_template, path)
    db = open_database(path)
    RegistryService(db).initialise("township", "临晋镇", "140821100")
    RegistryService(db).save_village(VillageInput(code="140821100201", name="西关村", groups=["一组"]))
    add_people(db, 1000)
    db.dispose()
    return path


def _kill_after(args: list[str], delay: float, data_dir: Path) -> list[str]:
    """Fork a worker, wait until it is ready, let it work ``delay`` seconds, SIGKILL it; its output lines.

    A forked child is a real separate process (its own SQLite connections and
    file locks) without an interpreter start-up per run.
    """
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: work until killed
        os.close(read_fd)
        code = 0
        try:
            os.environ["TOWNAPP_DATA_DIR"] = str(data_dir)
            with os.fdopen(write_fd, "w", encoding="utf-8") as out:
                try:
                    crash_worker.main(*args, out=out)
                except BaseException:
                    out.write("ERROR " + traceback.format_exc().replace("\n", " | ") + "\n")
                    code = 1
        finally:
            os._exit(code)
    os.close(write_fd)
    with os.fdopen(read_fd, encoding="utf-8") as reader:
        first = reader.readline()
        assert first.strip() == "READY", first + reader.read()
        time.sleep(delay)
        os.kill(pid, signal.SIGKILL)
        _pid, status = os.waitpid(pid, 0)
        lines = reader.read().splitlines()
    errors = [line for line in lines if line.startswith("ERROR")]
    assert not errors, errors
    assert os.WIFSIGNALED(status) or any(line.startswith("ACK import") for line in lines)
    return lines


def _health(path: Path) -> tuple[bool, int]:
    """Open as the app does (recovering the WAL), then integrity and foreign keys."""
    db = open_database(path)
    try:
        with db.engine.connect() as conn:
            ok = conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
            violations = len(conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall())
    finally:
        db.dispose()
    return ok, violations


def _households(path: Path) -> set[str]:
    con = sqlite3.connect(path)
    try:
        return {r[0] for r in con.execute("SELECT number FROM household WHERE number LIKE 'K%'")}
    finally:
        con.close()


def _check_writes(path: Path, lines: list[str]) -> tuple[int, int]:
    """(acknowledged, acknowledged but missing); every household also has its three members."""
    acked = {f"K{int(line.split()[1]):05d}" for line in lines if line.startswith("ACK ")}
    present = _households(path)
    con = sqlite3.connect(path)
    try:
        sizes = con.execute("SELECT h.number, count(m.id) FROM household h LEFT JOIN household_member m "
                            "ON m.household_id = h.id WHERE h.number LIKE 'K%' GROUP BY h.id").fetchall()
    finally:
        con.close()
    assert all(size == 3 for _number, size in sizes), "a household was saved without all its members"
    return len(acked), len(acked - present)


def _summary(name: str, results: list[tuple[bool, int, int, int]], extra: str = "") -> None:
    ok = sum(r[0] for r in results)
    violations = sum(r[1] for r in results)
    acked = sum(r[2] for r in results)
    missing = sum(r[3] for r in results)
    record(f"SIGKILL {name}（{len(results)} 次）",
           f"完整性 ok {ok}/{len(results)}，外键错误 {violations}，已确认提交 {acked} 条、缺失 {missing} 条{extra}")


def test_sigkill_during_writes(template: Path, tmp_path: Path) -> None:
    rng = random.Random(9)
    results = []
    for run in range(RUNS):
        path = tmp_path / f"writes-{run}.db"
        shutil.copyfile(template, path)
        lines = _kill_after(["writes", str(path)], rng.uniform(0.05, 1.2), tmp_path / f"data-{run}")
        ok, violations = _health(path)
        acked, missing = _check_writes(path, lines)
        results.append((ok, violations, acked, missing))
        path.unlink()
    _summary("写入时", results)
    assert all(r[0] for r in results) and sum(r[1] for r in results) == 0 and sum(r[3] for r in results) == 0
    assert sum(r[2] for r in results) > RUNS  # the kills did land in the middle of work


def test_sigkill_during_imports(template: Path, tmp_path: Path) -> None:
    rng = random.Random(10)
    workbook = make_import_file(tmp_path / "人员导入.xlsx", IMPORT_ROWS, 200_000)
    results, outcomes = [], {"全部导入": 0, "完全未导入": 0, "部分导入": 0}
    duration = _timed_import(template, workbook, tmp_path)  # kills spread over the import on any machine
    for run in range(RUNS):
        path = tmp_path / f"import-{run}.db"
        shutil.copyfile(template, path)
        lines = _kill_after(["import", str(path), str(workbook)], rng.uniform(0.02, duration * 1.3), tmp_path / f"d-{run}")
        ok, violations = _health(path)
        con = sqlite3.connect(path)
        imported = con.execute("SELECT count(*) FROM person WHERE name LIKE '导入%'").fetchone()[0]
        con.close()
        acknowledged = any(line.startswith("ACK import ok") for line in lines)
        outcome = "全部导入" if imported == IMPORT_ROWS else "完全未导入" if imported == 0 else "部分导入"
        outcomes[outcome] += 1
        results.append((ok, violations, int(acknowledged), int(acknowledged and imported != IMPORT_ROWS)))
        path.unlink()
    _summary("导入时", results, "；" + "，".join(f"{k} {v} 次" for k, v in outcomes.items()))
    assert outcomes["部分导入"] == 0
    assert all(r[0] for r in results) and sum(r[1] for r in results) == 0 and sum(r[3] for r in results) == 0
    assert outcomes["完全未导入"] > 0  # some kills landed before the commit


def _timed_import(template: Path, workbook: Path, tmp_path: Path) -> float:
    """Seconds one uninterrupted import takes here (backup before it included)."""
    from townapp.exchange.pipeline import run_import
    from townapp.sheets import all_sheet_specs

    path = tmp_path / "timing.db"
    shutil.copyfile(template, path)
    db = open_database(path)
    try:
        started = time.perf_counter()
        assert run_import(db, workbook, all_sheet_specs()).accepted
        return time.perf_counter() - started
    finally:
        db.dispose()
        path.unlink()


def test_sigkill_during_backups(template: Path, tmp_path: Path) -> None:
    rng = random.Random(11)
    results, backups_checked, bad_backups = [], 0, 0
    for run in range(RUNS):
        path = tmp_path / f"backup-{run}.db"
        shutil.copyfile(template, path)
        folder = tmp_path / f"backups-{run}"
        lines = _kill_after(["backup", str(path), str(folder)], rng.uniform(0.05, 1.5), tmp_path / f"e-{run}")
        ok, violations = _health(path)
        acked, missing = _check_writes(path, lines)
        # every file under a backup's name is a complete, good backup; a killed one left at most a hidden .part
        finished = [p for p in folder.iterdir() if BACKUP_NAME.match(p.name)] if folder.exists() else []
        backups_checked += len(finished)
        bad_backups += sum(bool(integrity_problems(p)) for p in finished)
        results.append((ok, violations, acked, missing))
        path.unlink()
    _summary("备份时", results, f"；留下的备份 {backups_checked} 份，损坏 {bad_backups} 份")
    assert bad_backups == 0 and backups_checked > 0
    assert all(r[0] for r in results) and sum(r[1] for r in results) == 0 and sum(r[3] for r in results) == 0

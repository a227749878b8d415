"""All or nothing, even when the process dies: SIGKILL during a 50,000-row import.

GIVEN a township database and a workbook of 50,000 people
WHEN a subprocess importing it is killed with SIGKILL at random moments (10 runs, seeded)
THEN afterwards the database is unchanged and passes integrity_check and
foreign_key_check every time.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from openpyxl import Workbook

from townapp.core.idcard import make_id_number
from townapp.db import open_database
from townapp.registry.dto import VillageInput
from townapp.registry.service import RegistryService

from .conftest import BUSINESS_TABLES

ROWS = 50_000
RUNS = 10
REPO = Path(__file__).resolve().parents[2]
CHILD = """
import sys
from townapp.core.actor import CLI_ACTOR
from townapp.db import open_database
from townapp.exchange.pipeline import run_import
from townapp.sheets import all_sheet_specs
db = open_database(sys.argv[1])
print("started", flush=True)
report = run_import(db, sys.argv[2], all_sheet_specs(), actor=CLI_ACTOR)
print(report.status, flush=True)
"""


def make_workbook(path: Path) -> Path:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("人员")
    ws.append(["身份证号", "姓名", "出生日期", "民族", "所属村", "联系电话"])
    start = dt.date(1940, 1, 1)
    for i in range(ROWS):
        birth = start + dt.timedelta(days=i % 25000)
        ws.append([make_id_number("140821", birth, i // 25000 * 2 + 1), f"测试{i}", birth, "汉族",
                   "东张村" if i % 2 else "西张村", None])
    wb.save(path)
    return path


def state(path: Path) -> dict[str, list[tuple]]:
    con = sqlite3.connect(path)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert con.execute("PRAGMA foreign_key_check").fetchall() == []
        tables = {t: sorted(con.execute(f"SELECT * FROM {t}").fetchall()) for t in BUSINESS_TABLES}
        tables["import_batch"] = con.execute("SELECT status FROM import_batch").fetchall()
        return tables
    finally:
        con.close()


@pytest.mark.slow
def test_sigkill_never_leaves_half_an_import(migrated_template: Path, tmp_path: Path) -> None:
    db_path = tmp_path / "town.db"
    shutil.copyfile(migrated_template, db_path)
    db = open_database(db_path)
    service = RegistryService(db)
    service.initialise("township", "临晋镇", "140821100")
    service.save_village(VillageInput(code="140821100201", name="东张村"))
    service.save_village(VillageInput(code="140821100202", name="西张村"))
    db.dispose()
    workbook = make_workbook(tmp_path / "people.xlsx")
    before = state(db_path)
    pristine = tmp_path / "pristine.db"
    shutil.copyfile(db_path, pristine)
    env = {**os.environ, "PYTHONPATH": str(REPO)}

    # one full run on a copy tells how long an import takes (and what "all" looks like)
    reference = tmp_path / "reference.db"
    shutil.copyfile(db_path, reference)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CHILD, str(reference), str(workbook)], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=600)
    duration = time.perf_counter() - started
    assert done.returncode == 0 and "ok" in done.stdout, done.stdout + done.stderr
    assert len(state(reference)["person"]) == ROWS

    rng = random.Random(20261123)
    killed = 0
    for _ in range(RUNS):
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(db_path), str(workbook)], env=env, cwd=REPO,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(rng.uniform(0.02, 0.7) * duration)
        child.send_signal(signal.SIGKILL)
        out, err = child.communicate(timeout=60)
        if child.returncode == -signal.SIGKILL:
            killed += 1
            assert state(db_path) == before
        else:  # finished before the signal (a busy machine made the reference slow): then it is complete
            assert child.returncode == 0, out + err
            assert len(state(db_path)["person"]) == ROWS
            shutil.copyfile(pristine, db_path)  # start the next run from the same state again
    assert killed >= RUNS - 2, f"only {killed} of {RUNS} runs were killed mid-way"

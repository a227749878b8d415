"""Log files never hold a full ID number, after a run that imported and exported ID numbers.

The run logs at DEBUG with SQLAlchemy's statement log on, so every ID number
passes through the logger as a query parameter; a crash traceback carrying
an ID is logged too. Then the command line imports and exports as IT staff would.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from pathlib import Path

from tests.db.safety_support import VILLAGE_CODE, make_import_file, person_id_number
from tests.figures import record
from townapp import config
from townapp.core.actor import CLI_ACTOR
from townapp.core.idcard import IdNumberError, parse_id_number
from townapp.core.logs import configure_logging
from townapp.db import Database
from townapp.exchange.package import write_package
from townapp.exchange.pipeline import run_import
from townapp.exchange.writer import export_sheets
from townapp.registry.dto import VillageInput
from townapp.registry.service import RegistryService
from townapp.sheets import all_sheet_specs

ID_LIKE = re.compile(r"(?<![0-9])[1-9]\d{16}[\dXx](?![0-9])")


def _full_ids(text: str) -> list[str]:
    found = []
    for candidate in ID_LIKE.findall(text):
        try:
            parse_id_number(candidate)
        except IdNumberError:
            continue
        found.append(candidate)
    return found


def test_logs_hold_no_full_id_number(db: Database, tmp_path: Path) -> None:
    RegistryService(db).save_village(VillageInput(code=VILLAGE_CODE, name="西关村"))
    workbook = make_import_file(tmp_path / "人员.xlsx", 200, 700_000)
    root = logging.getLogger()
    configure_logging(config.log_path(), logging.DEBUG)
    sql_log = logging.getLogger("sqlalchemy.engine")
    sql_log.setLevel(logging.INFO)
    try:
        # WHEN the app imports ID numbers, exports them in full and masked, and logs a failure naming one
        assert run_import(db, workbook, all_sheet_specs(), actor=CLI_ACTOR).accepted
        write_package(db, all_sheet_specs(), tmp_path / "数据包.xlsx", actor=CLI_ACTOR)
        export_sheets(db, all_sheet_specs(), tmp_path / "花名册.xlsx", CLI_ACTOR)
        try:
            raise ValueError(f"身份证号 {person_id_number(700_001)} 处理失败")
        except ValueError:
            logging.getLogger("townapp.test").exception("导入第 3 行失败：%s", person_id_number(700_002))
    finally:
        sql_log.setLevel(logging.WARNING)
        for handler in list(root.handlers):
            if getattr(handler, "_townapp", False):
                root.removeHandler(handler)
                handler.close()
    # AND the command line imports and exports in its own process (its own log file, same folder)
    env = {**os.environ, "TOWNAPP_DATA_DIR": str(config.data_dir()), "PYTHONIOENCODING": "utf-8"}
    second = make_import_file(tmp_path / "人员2.xlsx", 100, 710_000)
    for args in (["import", "--db", db.location, str(second)],
                 ["export", "package", "--db", db.location, "--out", str(tmp_path / "包2.xlsx")]):
        result = subprocess.run([sys.executable, "-m", "townapp", *args], capture_output=True, text=True,
                                encoding="utf-8", env=env, timeout=300)
        assert result.returncode == 0, result.stdout + result.stderr
    # THEN the log files hold masked ID numbers (they did pass through the logger) and no full one
    logs = list(config.log_path().parent.glob("townapp.log*"))
    text = "\n".join(p.read_text(encoding="utf-8") for p in logs)
    masked = len(re.findall(r"\d{3}\*{11}[\dX]{4}", text))
    full = _full_ids(text)
    record("日志：导入导出后日志中的完整身份证号", f"{len(full)}（脱敏后的身份证号 {masked} 处，日志 {len(text.splitlines())} 行）")
    assert masked >= 20  # SQLAlchemy shows a sample of each batch; the traceback and message add theirs
    assert full == []

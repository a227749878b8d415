"""Hidden temporary files left by killed exports and backups are cleaned up on the next run.

Story: an export to a USB stick was killed halfway; its hidden ``.part`` file
(one held 105,095 full ID numbers) stayed on the stick. A backup killed
halfway left ``.part`` and ``-journal`` files in the backups folder. The next
export to that folder, and the next start of the app, remove them — only
names of our own pattern, only files older than the running process, never a
user's file.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from townapp import config
from townapp.cli import main
from townapp.core.atomic import PROCESS_STARTED
from townapp.db import Database

OLD = PROCESS_STARTED - 3600


def _made(folder: Path, name: str, *, old: bool = True) -> Path:
    path = folder / name
    path.write_bytes(b"140821197003040111,\xe5\xbc\xa0\xe4\xb8\x89\n" * 10)
    if old:
        os.utime(path, (OLD, OLD))
    return path


def _our_temp_name(folder: Path, stem: str, suffix: str) -> str:
    """A name exactly as atomic_output makes it (tempfile's own pattern)."""
    fd, name = tempfile.mkstemp(prefix=f".{stem}-", suffix=suffix + ".part", dir=folder)
    os.close(fd)
    os.unlink(name)
    return Path(name).name


_WRITER = """
import os, signal, sys
from townapp.core.atomic import atomic_output
with atomic_output(sys.argv[1]) as tmp:
    tmp.write_bytes(b"140821197003040111," * 1000)
    print(tmp, flush=True)
    if sys.argv[2] == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    sys.stdin.read()  # a running export: holds its temporary file until told to finish
"""


def _writer(target: Path, how: str) -> tuple[subprocess.Popen, Path]:
    """Another townapp process exporting to ``target``: ``kill`` (SIGKILLed halfway) or ``run`` (still writing)."""
    child = subprocess.Popen([sys.executable, "-c", _WRITER, str(target), how], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    part = Path(child.stdout.readline().strip())
    if how == "kill":
        assert child.wait() == -signal.SIGKILL
    return child, part


def test_an_export_to_a_folder_removes_the_leftovers_of_killed_exports(tmp_path: Path) -> None:
    """GIVEN a USB folder with the hidden temp files of two killed exports, one being written right now
    by another running copy (its temporary file locked, even though older than us), and user files
    that merely look similar
    WHEN a template is exported to that folder
    THEN only the old leftovers of our own pattern are gone."""
    stick = tmp_path / "U盘"
    stick.mkdir()
    package_part = _made(stick, _our_temp_name(stick, "数据包", ".xlsx"))
    pdf_part = _made(stick, _our_temp_name(stick, "一村一档", ".pdf"))
    child, running = _writer(stick / "另一个窗口正在写.xlsx", "run")
    os.utime(running, (OLD, OLD))
    users = [_made(stick, name) for name in ("名单.xlsx.part", ".名单-备份.xlsx", "数据包.xlsx", ".hidden-abc.txt")]
    try:
        assert main(["export", "template", "--out", str(stick / "模板.xlsx")]) == 0
        assert not package_part.exists() and not pdf_part.exists()
        assert running.exists() and all(p.exists() for p in users)
        assert (stick / "模板.xlsx").exists()
    finally:
        child.communicate("")
    assert child.returncode == 0 and (stick / "另一个窗口正在写.xlsx").exists()


def test_a_quarterly_export_removes_what_a_killed_one_left_after_this_process_started(
        tmp_path: Path, db: Database) -> None:
    """GIVEN ``townapp export quarterly --out usb2/季报.xlsx --pdf usb2/季报.pdf`` SIGKILLed halfway, after the
    running process (the app, or a command started in the same second) began: its ``.季报-xxxx.xlsx.part`` is
    newer than us — the old rule ("older than this process", whose start time is known to a second) kept it
    WHEN the quarterly return is exported to that folder again
    THEN the leftover is gone (no living writer holds it) and the new files are there."""
    db.dispose()
    stick = tmp_path / "usb2"
    stick.mkdir()
    _child, left = _writer(stick / "季报.xlsx", "kill")
    assert left.exists() and left.name.startswith(".季报-") and left.name.endswith(".xlsx.part")
    after_we_started = min(time.time() - 1.5, PROCESS_STARTED + 0.5)
    assert after_we_started > PROCESS_STARTED  # this test process has run for more than two seconds
    os.utime(left, (after_we_started, after_we_started))
    assert main(["export", "quarterly", "--db", str(db.path), "--year", "2026", "--quarter", "2",
                 "--out", str(stick / "季报.xlsx"), "--pdf", str(stick / "季报.pdf")]) == 0
    assert sorted(p.name for p in stick.iterdir()) == ["季报.pdf", "季报.xlsx"]


def test_start_up_removes_leftovers_in_the_backups_and_data_folders(db: Database) -> None:
    """GIVEN a backup killed halfway (its .part and SQLite's -journal beside it) in the backups folder,
    and an export's leftover in the data folder
    WHEN the app opens the database at start-up
    THEN those leftovers are gone, and the real backups and user files stay."""
    from townapp.ui.startup import open_for_session

    backups, data = config.backup_dir(), config.data_dir()
    part_name = _our_temp_name(backups, db.path.stem + "-20260101-090000-000000-startup", ".db")
    part = _made(backups, part_name)
    journal = _made(backups, part_name + "-journal")
    export_part = _made(data, _our_temp_name(data, "季度报表", ".xlsx"))
    keep = [_made(backups, f"{db.path.stem}-20260101-090000-000000-startup.db"), _made(data, "说明.txt")]
    db.dispose()
    opened = open_for_session(db.path, lambda *_a: None)
    opened.dispose()
    assert not part.exists() and not journal.exists() and not export_part.exists()
    assert all(p.exists() for p in keep)

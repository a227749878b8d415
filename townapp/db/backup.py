"""Backups with the SQLite backup API — never a file copy, which can catch a half-written page."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from pathlib import Path

from townapp import config
from townapp.db.engine import readonly_uri


def backup_database(source: Path, out_dir: Path | None = None, reason: str = "manual") -> Path:
    """Write a consistent copy to ``out_dir`` atomically (temp file, fsync, rename)."""
    out_dir = out_dir or config.backup_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    target = out_dir / f"{source.stem}-{stamp}-{reason}.db"
    tmp = target.with_suffix(".db.part")
    try:
        src = sqlite3.connect(readonly_uri(source), uri=True)
        try:
            dst = sqlite3.connect(tmp)
            try:
                src.backup(dst)
                dst.execute("PRAGMA journal_mode=DELETE")
            finally:
                dst.close()
        finally:
            src.close()
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a failed backup leaves nothing that looks like one
        raise
    return target

"""What makes a file a townapp database, read without opening it as one.

A leaf of the database layer: engine, backup and migrate all need the
application id and the read-only URIs, and none of them may import another
just for these.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

APPLICATION_ID = 0x544F574E  # "TOWN"


def readonly_uri(path: Path) -> str:
    """A read-only SQLite URI for ``path``, percent-encoded: a '#' or '?' in a folder
    name would otherwise end the path, and SQLite would open (and create) another file."""
    return Path(path).resolve().as_uri() + "?mode=ro"


def snapshot_uri(path: Path) -> str:
    """A URI that reads ``path`` without writing anything, not even a -shm file beside it.

    ``immutable=1`` when no -wal or -journal file is beside it (closed cleanly, no
    writer at work: the file is all there is); otherwise plain ``mode=ro``, which
    must read the log too and may need its -shm."""
    path = Path(path)
    if any(Path(f"{path}{side}").exists() for side in ("-wal", "-journal")):  # there is more than the file
        return readonly_uri(path)
    return readonly_uri(path) + "&immutable=1"


def read_application_id(path: Path) -> int:
    con = sqlite3.connect(readonly_uri(path), uri=True)
    try:
        return con.execute("PRAGMA application_id").fetchone()[0]
    finally:
        con.close()

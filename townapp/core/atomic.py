"""Atomic file output: write beside the target, fsync, verify, then rename.

A USB stick pulled halfway, a full disk or a crash never leaves a truncated
file under the final name: readers see the old file or the complete new one.
Every writer of user-visible files (xlsx packages, templates, PDFs) uses this.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path


def fsync_directory(folder: Path) -> None:
    """Make the rename itself durable (no-op where directories cannot be opened, e.g. Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_output(target: Path | str, verify: Callable[[Path], None] | None = None) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; on success fsync, ``verify`` it, rename it.

    The temp file lives in the same folder so ``os.replace`` is a rename on one
    file system. ``verify`` may raise to refuse the file; then nothing is renamed
    and the temporary file is removed.
    """
    target = Path(target)
    folder = target.parent if str(target.parent) else Path(".")
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.stem}-", suffix=target.suffix + ".part", dir=folder)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            handle.flush()
            os.fsync(handle.fileno())
        if verify is not None:
            verify(tmp)
        os.replace(tmp, target)
        fsync_directory(folder)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_bytes_atomic(target: Path | str, data: bytes) -> None:
    """Small files (settings, JSON reports) written the same safe way."""
    with atomic_output(target) as tmp:
        tmp.write_bytes(data)

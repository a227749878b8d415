"""Atomic file output: write beside the target, fsync, verify, then rename.

A USB stick pulled halfway, a full disk or a crash never leaves a truncated
file under the final name: readers see the old file or the complete new one.
Every writer of user-visible files (xlsx packages, templates, PDFs) uses this.

Two more duties of the one place every file goes through: a write the disk
refuses (full, read-only, no permission) becomes a DomainError with a Chinese
message, whatever library was writing; and the hidden temporary files of
earlier, killed runs (one held 105,095 full ID numbers on a USB stick) are
removed the next time something is written to that folder — only names of our
own pattern, only files no living writer holds. A writer holds an exclusive
``flock`` on its temporary file until it is renamed or removed (SIGKILL releases
it), so a file another running copy is writing is never touched, however old,
and one a killed run left is removed at once, however recent. (Where there is
no flock, on Windows, a file is removed only if it is older than this process.)
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

from townapp.core.errors import DomainError

try:
    import fcntl
except ImportError:  # Windows: no flock; an open file there cannot be deleted anyway
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

# tempfile.mkstemp(prefix=".{stem}-", suffix="{suffix}.part"): 8 random characters from [a-z0-9_];
# SQLite adds -journal / -wal / -shm beside a database being written under that name
LEFTOVER_NAME = re.compile(r"^\..+-[a-z0-9_]{8}(\.[^./\\]+)?\.part(-journal|-wal|-shm)?$")


def _process_started() -> float:
    """When this process started (Linux: from /proc), else when this module was imported."""
    try:
        ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        boot = next(float(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                    if line.startswith("btime "))
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration, AttributeError):
        return _IMPORTED


_IMPORTED = time.time()
PROCESS_STARTED = _process_started()


# mkstemp creates the file a moment before its writer locks it: a file younger than this is never taken
_LOCK_GRACE_S = 1.0


def _held_by_a_writer(path: str) -> bool:
    """True if a living process holds the flock ``atomic_output`` takes on its temporary file."""
    if fcntl is None:
        return False
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return True  # cannot tell: leave it
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # releases the probe's lock
    return False


def _abandoned(entry: os.DirEntry, cutoff: float, now: float) -> bool:
    """A leftover of a run that is gone: no writer holds it (or its database, for SQLite's side files)."""
    if not entry.is_file(follow_symlinks=False):
        return False
    mtime = entry.stat(follow_symlinks=False).st_mtime
    owner = re.sub(r"-(journal|wal|shm)$", "", entry.path)
    if fcntl is None:
        return mtime < cutoff
    if owner != entry.path and os.path.exists(owner):
        return not _held_by_a_writer(owner) and mtime < now - _LOCK_GRACE_S
    return (mtime < cutoff or mtime < now - _LOCK_GRACE_S) and not _held_by_a_writer(entry.path)


def clean_leftovers(folder: Path | str, older_than: float | None = None) -> list[Path]:
    """Remove our hidden temporary files left in ``folder`` by runs that were killed.

    Only names of our own pattern (``.name-xxxxxxxx.ext.part`` and SQLite's -journal
    beside it) that no living writer holds (its flock); without flock (Windows), only
    files last written before this process started (``older_than``).
    """
    cutoff = PROCESS_STARTED if older_than is None else older_than
    now = time.time()
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        if not LEFTOVER_NAME.match(entry.name):
            continue
        try:
            if _abandoned(entry, cutoff, now):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError as exc:
            log.warning("无法删除上次中断留下的临时文件 %s：%s", entry.path, exc)
    if removed:
        log.info("已删除上次中断留下的临时文件 %d 个：%s", len(removed), folder)
    return removed


_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
_READ_ONLY = {errno.EROFS}
_DENIED = {errno.EACCES, errno.EPERM}


def _os_error_in(exc: BaseException) -> OSError | None:
    """The OSError behind ``exc`` (libraries such as xlsxwriter wrap it in their own exception)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno is not None:
            return current
        current = current.__cause__ or current.__context__
    return None


def describe_write_error(exc: BaseException, target: Path | str | None = None) -> str | None:
    """A Chinese sentence for a write the disk refused (full, read-only, no permission), else None."""
    error = _os_error_in(exc)
    if error is None:
        return None
    what = f"{Path(target).name} " if target is not None else "文件"
    where = Path(target).parent if target is not None else Path(error.filename or ".").parent
    if error.errno in _FULL:
        return (f"磁盘空间不足（磁盘已满），{what}没有写出，原有的文件没有改变。"
                f"请清理 {where} 所在磁盘的空间，或换一个有空间的位置后再试。")
    if error.errno in _READ_ONLY:
        return (f"U盘或磁盘是只读的（可能打开了写保护），{what}没有写出。"
                "请关闭U盘的写保护，或换一个位置后再试。")
    if error.errno in _DENIED:
        return f"没有写入 {where} 的权限，{what}没有写出。请换一个有写入权限的文件夹后再试。"
    # a rename names its source (our hidden temporary file) first: the user knows only the target
    named = target if target is not None else (error.filename2 or error.filename or "这个位置")
    if error.errno == errno.EISDIR:
        return f"{named} 是一个文件夹，不能写成文件，没有写出任何内容。请在文件夹路径后面加上文件名再试。"
    if error.errno in (errno.ENOTDIR, errno.EEXIST):
        return (f"{named} 的路径中有一段是文件而不是文件夹（或同名文件已存在），{what}没有写出。"
                "请检查路径，换一个文件夹后再试。")
    return None


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


def close_zip_files_left_open(exc: BaseException) -> None:
    """Close, quietly, any ZipFile a failed write left open in the frames of ``exc``.

    xlsxwriter and openpyxl open their ZipFile inside ``close()``/``save()`` and do not close it when
    a write fails (a full USB stick): its ``__del__`` later tried again and printed "Exception ignored
    in ZipFile.__del__ … No space left on device" on stderr. Only the exception's frames still reach
    it; the error itself goes on to the user as it was.
    """
    seen: set[int] = set()
    error: BaseException | None = exc
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        tb = error.__traceback__
        while tb is not None:
            for value in list(tb.tb_frame.f_locals.values()):
                if isinstance(value, zipfile.ZipFile) and value.fp is not None:
                    with contextlib.suppress(OSError, ValueError):  # the same full disk: already reported
                        value.close()  # writes what it can, then always releases the file (fp = None)
            tb = tb.tb_next
        error = error.__cause__ or error.__context__


@contextlib.contextmanager
def atomic_output(target: Path | str, verify: Callable[[Path], None] | None = None) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; on success fsync, ``verify`` it, rename it.

    The temp file lives in the same folder so ``os.replace`` is a rename on one
    file system. ``verify`` may raise to refuse the file; then nothing is renamed
    and the temporary file is removed. A full, read-only or forbidden disk raises
    DomainError with a Chinese message.
    """
    target = Path(target)
    folder = target.parent if str(target.parent) else Path(".")
    tmp: Path | None = None
    held: int | None = None  # the temporary file's flock, held until it is renamed or removed
    try:
        folder.mkdir(parents=True, exist_ok=True)
        clean_leftovers(folder)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.stem}-", suffix=target.suffix + ".part", dir=folder)
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)  # says "being written" to clean_leftovers of other processes
            held = fd
        else:
            os.close(fd)
        tmp = Path(tmp_name)
        yield tmp
        with open(tmp, "rb+") as handle:
            handle.flush()
            os.fsync(handle.fileno())
        if verify is not None:
            verify(tmp)
        os.replace(tmp, target)
        fsync_directory(folder)
    except DomainError as exc:
        close_zip_files_left_open(exc)
        raise
    except Exception as exc:
        close_zip_files_left_open(exc)
        message = describe_write_error(exc, target)
        if message is None:
            raise
        raise DomainError(message) from exc
    finally:
        if tmp is not None:
            for leftover in (tmp, Path(f"{tmp}-journal")):
                with contextlib.suppress(OSError):
                    leftover.unlink(missing_ok=True)
        if held is not None:
            os.close(held)


def write_bytes_atomic(target: Path | str, data: bytes) -> None:
    """Small files (settings, JSON reports) written the same safe way."""
    with atomic_output(target) as tmp:
        tmp.write_bytes(data)


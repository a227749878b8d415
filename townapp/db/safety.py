"""Where a live database may be, whether it is healthy, and what a full disk means to the user.

A live database on a USB stick or a network share is refused: a pulled stick
or a dropped connection in the middle of a write corrupts it, and SQLite's
locking does not work over most network file systems. The user is told why
and offered a copy into the data folder.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path, PureWindowsPath

from sqlalchemy import Engine, event

from townapp import config
from townapp.core.errors import DomainError
from townapp.db.backup import DISK_FULL_MESSAGE, integrity_problems, is_disk_full
from townapp.db.busy import DatabaseBusy, is_locked_error

log = logging.getLogger(__name__)

LOCAL, REMOVABLE, NETWORK = "local", "removable", "network"
NETWORK_FILE_SYSTEMS = frozenset({
    "nfs", "nfs4", "cifs", "smb3", "smbfs", "ncpfs", "afs", "ceph", "glusterfs", "lustre", "9p", "coda",
    "davfs", "fuse.davfs2", "fuse.sshfs", "sshfs", "fuse.gvfsd-fuse", "fuse.rclone", "fuse.s3fs",
})
REMOVABLE_MOUNT_ROOTS = ("/media/", "/run/media/", "/mnt/usb")
# GetDriveTypeW: 2 removable, 4 remote (network), 5 CD-ROM, 6 RAM disk
_WINDOWS_KINDS = {2: REMOVABLE, 4: NETWORK, 5: REMOVABLE}


class UnsafeLocation(DomainError):
    """The live database is on a removable drive or network share; ``kind`` says which."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


# ----- where the file is ---------------------------------------------------------------
def _windows_drive_type(root: str) -> int:
    import ctypes

    return int(ctypes.windll.kernel32.GetDriveTypeW(ctypes.c_wchar_p(root)))  # type: ignore[attr-defined]


def _windows_kind(path: str, drive_type: Callable[[str], int] | None) -> str:
    pure = PureWindowsPath(path)
    if pure.drive.startswith("\\\\") or str(pure).startswith("\\\\"):
        return NETWORK  # \\server\share
    if not pure.drive:
        return LOCAL
    return _WINDOWS_KINDS.get((drive_type or _windows_drive_type)(pure.drive + "\\"), LOCAL)


def _unescape_mount(text: str) -> str:
    """/proc/mounts writes spaces, tabs, newlines and backslashes as octal escapes."""
    for escaped, plain in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        text = text.replace(escaped, plain)
    return text


def _mount_of(path: str, mounts_text: str) -> tuple[str, str, str] | None:
    """(device, mount point, file system type) of the mount holding ``path`` (longest prefix)."""
    best: tuple[str, str, str] | None = None
    for line in mounts_text.splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        device, point, fstype = _unescape_mount(parts[0]), _unescape_mount(parts[1]), parts[2]
        inside = path == point or path.startswith(point.rstrip("/") + "/") or point == "/"
        if inside and (best is None or len(point) >= len(best[1])):
            best = (device, point, fstype)
    return best


def _block_device_removable(device: str, sys_root: Path) -> bool:
    """/sys/block/<disk>/removable, or a disk that hangs off a USB bus (USB hard disks say 0)."""
    if not device.startswith("/dev/"):
        return False
    name = Path(device).resolve().name if Path(device).exists() else Path(device).name
    entry = sys_root / "class" / "block" / name
    if not entry.exists():
        return False
    node = entry.resolve()
    disk = node.parent if (node / "partition").exists() else node
    flag = sys_root / "block" / disk.name / "removable"
    try:
        if flag.read_text().strip() == "1":
            return True
    except OSError:
        pass
    return "/usb" in str(disk)


def location_kind(path: Path | str, *, platform: str = sys.platform, mounts_text: str | None = None,
                  sys_root: Path = Path("/sys"), drive_type: Callable[[str], int] | None = None) -> str:
    """LOCAL, REMOVABLE or NETWORK for the folder ``path`` is (or would be) in."""
    if platform.startswith("win"):
        return _windows_kind(str(path), drive_type)
    resolved = Path(path).expanduser().resolve()
    if mounts_text is None:
        try:
            mounts_text = Path("/proc/mounts").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return LOCAL  # macOS and others: nothing known to refuse
    mount = _mount_of(str(resolved), mounts_text)
    if mount is None:
        return LOCAL
    device, point, fstype = mount
    if fstype in NETWORK_FILE_SYSTEMS or device.startswith("//") or "/gvfs" in point:
        return NETWORK
    if fstype.startswith("nfs") or fstype.startswith("fuse.") and "@" in device and ":" in device:
        return NETWORK  # nfs variants; user@host:/path (sshfs and friends)
    if _block_device_removable(device, sys_root):
        return REMOVABLE
    if any((point.rstrip("/") + "/").startswith(root) for root in REMOVABLE_MOUNT_ROOTS):
        return REMOVABLE
    return LOCAL


def check_live_location(path: Path | str, **probe: object) -> None:
    """Refuse a live database on a removable drive or network share (UnsafeLocation says why)."""
    kind = location_kind(path, **probe)  # type: ignore[arg-type]
    if kind == REMOVABLE:
        raise UnsafeLocation(
            f"数据库 {path} 在U盘或移动硬盘上。正在使用的数据库不能放在可移动磁盘上："
            "写入时拔出或松动会损坏数据。请把它复制到本机的数据文件夹后再打开。", kind)
    if kind == NETWORK:
        raise UnsafeLocation(
            f"数据库 {path} 在网络共享文件夹上。网络断开或多人同时打开会损坏数据库，"
            "SQLite 的文件锁在网络文件系统上也不可靠。请把它复制到本机的数据文件夹后再打开。", kind)


def copy_into_data_folder(path: Path | str) -> Path:
    """A consistent copy (backup API) of ``path`` in the data folder, never overwriting a file there."""
    from townapp.db.backup import backup_database

    source = Path(path)
    folder = config.data_dir()
    target = folder / source.name
    number = 1
    while target.exists():
        number += 1
        target = folder / f"{source.stem}（{number}）{source.suffix}"
    copy = backup_database(source, folder, reason="copy")
    os.replace(copy, target)
    return target


# ----- health --------------------------------------------------------------------------
def startup_problems(path: Path | str) -> list[str]:
    """``quick_check`` at start-up: an empty list means the database may be opened.

    After an unclean shutdown (a -wal file left beside the database: SQLite removes it when
    the last connection closes normally, and the caller holds the one-window lock) the full
    ``integrity_check`` runs instead: it also compares every index with its table, so a
    byte flipped in an indexed value (a name, an ID number) is found — seconds more, only then.
    A byte flipped inside a value no index holds is invisible to SQLite either way.
    """
    path = Path(path)
    unclean = Path(str(path) + "-wal").exists()
    if unclean:
        log.warning("上次没有正常退出，启动时做完整的数据库检查：%s", path)
    return integrity_problems(path, quick=not unclean)


# ----- full disk ------------------------------------------------------------------------
def _translate_error(context) -> None:  # noqa: ANN001 (sqlalchemy ExceptionContext)
    original = context.original_exception
    if isinstance(original, (sqlite3.Error, OSError)) and is_disk_full(original):
        log.error("磁盘已满：%s", original)
        raise DomainError(DISK_FULL_MESSAGE.format(what="保存")) from original
    if isinstance(original, sqlite3.OperationalError) and is_locked_error(original):
        engine = context.engine
        path = engine.url.database if engine is not None else None
        log.warning("数据库被占用，等待超时：%s", path)
        raise DatabaseBusy(path or None) from original


def install_error_translation(engine: Engine) -> None:
    """SQLITE_FULL anywhere (a save, an import, a migration) reaches the user as a Chinese message;
    the transaction has already been rolled back by SQLite, so the database is unchanged. A write lock
    held longer than the busy timeout becomes DatabaseBusy, which names the holder."""
    if not event.contains(engine, "handle_error", _translate_error):
        event.listen(engine, "handle_error", _translate_error)

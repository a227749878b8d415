"""Where a live database may be, and the start-up health check.

Stories: a clerk double-clicks a database on a USB stick or a network share —
it is refused with the reason and a copy into the data folder is offered. A
laptop's disk damaged the database — start-up notices and offers the newest
good backup.
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
from pathlib import Path

import pytest

from tests.db.safety_support import add_people
from tests.figures import record
from townapp import config
from townapp.db import Database, open_database
from townapp.db.backup import backup_database, newest_good_backup
from townapp.db.safety import (
    LOCAL,
    NETWORK,
    REMOVABLE,
    UnsafeLocation,
    check_live_location,
    copy_into_data_folder,
    location_kind,
    startup_problems,
)
from townapp.registry.dto import VillageInput
from townapp.registry.service import RegistryService

MOUNTS = """\
/dev/nvme0n1p2 / ext4 rw,relatime 0 0
/dev/nvme0n1p3 /home ext4 rw,relatime 0 0
/dev/sdb1 /media/wang/KINGSTON vfat rw,nosuid,nodev 0 0
/dev/sdc1 /mnt/backup\\040disk ext4 rw 0 0
/dev/sdd1 /data ext4 rw 0 0
//192.168.1.10/共享 /mnt/township cifs rw,vers=3.0 0 0
nas:/export/ledgers /mnt/nfs nfs4 rw 0 0
wang@server:/srv /home/wang/remote fuse.sshfs rw 0 0
gvfsd-fuse /run/user/1000/gvfs fuse.gvfsd-fuse rw 0 0
"""


@pytest.fixture
def fake_sys(tmp_path: Path) -> Path:
    """/sys as the kernel shows a laptop with a USB stick (sdb), a USB hard disk (sdc) and a SATA disk (sdd)."""
    root = tmp_path / "sys"
    devices = {"nvme0n1": ("pci0000:00/0000:00:1d.0/nvme/nvme0/nvme0n1", "0"),
               "sdb": ("pci0000:00/0000:00:14.0/usb2/2-1/2-1:1.0/host3/target3:0:0/3:0:0:0/block/sdb", "1"),
               "sdc": ("pci0000:00/0000:00:14.0/usb2/2-2/2-2:1.0/host4/target4:0:0/4:0:0:0/block/sdc", "0"),
               "sdd": ("pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/block/sdd", "0")}
    for disk, (where, removable) in devices.items():
        node = root / "devices" / where
        part_name = f"{disk}p2" if disk.startswith("nvme") else f"{disk}1"
        (node / part_name).mkdir(parents=True)
        (node / part_name / "partition").write_text("1")
        (root / "block").mkdir(parents=True, exist_ok=True)
        (root / "block" / disk).symlink_to(node)
        (node / "removable").write_text(removable + "\n")
        (root / "class" / "block").mkdir(parents=True, exist_ok=True)
        (root / "class" / "block" / part_name).symlink_to(node / part_name)
        (root / "class" / "block" / disk).symlink_to(node)
    return root


@pytest.mark.parametrize("path, kind", [
    ("/home/wang/.local/share/townapp/townapp.db", LOCAL),
    ("/media/wang/KINGSTON/台账/临晋镇.db", REMOVABLE),          # USB stick: removable flag
    ("/mnt/backup disk/临晋镇.db", REMOVABLE),                   # USB hard disk: removable 0, but on a USB bus
    ("/data/台账 2026/临晋镇.db", LOCAL),                        # second internal disk
    ("/mnt/township/临晋镇.db", NETWORK),                        # Windows share (cifs)
    ("/mnt/nfs/临晋镇.db", NETWORK),
    ("/home/wang/remote/临晋镇.db", NETWORK),                    # sshfs
    ("/run/user/1000/gvfs/smb-share:server=nas/临晋镇.db", NETWORK),
])
def test_linux_locations(path: str, kind: str, fake_sys: Path) -> None:
    assert location_kind(path, platform="linux", mounts_text=MOUNTS, sys_root=fake_sys) == kind


@pytest.mark.parametrize("path, drive_type, kind", [
    ("C:\\Users\\王\\AppData\\Local\\townapp\\townapp.db", 3, LOCAL),
    ("E:\\台账\\临晋镇.db", 2, REMOVABLE),      # DRIVE_REMOVABLE
    ("Z:\\乡镇共享\\临晋镇.db", 4, NETWORK),    # mapped network drive: DRIVE_REMOTE
    ("\\\\server\\共享\\临晋镇.db", 3, NETWORK),  # UNC path
    ("D:\\光盘\\临晋镇.db", 5, REMOVABLE),      # CD-ROM
])
def test_windows_locations(path: str, drive_type: int, kind: str) -> None:
    asked: list[str] = []

    def get_drive_type(root: str) -> int:
        asked.append(root)
        return drive_type

    assert location_kind(path, platform="win32", drive_type=get_drive_type) == kind
    assert asked in ([], [path[:2] + "\\"])


def test_a_live_database_on_a_usb_stick_is_refused_and_can_be_copied_in(db: Database, tmp_path: Path,
                                                                         fake_sys: Path) -> None:
    # GIVEN a database on a USB stick
    with pytest.raises(UnsafeLocation) as caught:
        check_live_location("/media/wang/KINGSTON/临晋镇.db", platform="linux", mounts_text=MOUNTS,
                            sys_root=fake_sys)
    # THEN the message says where and why, in Chinese
    assert caught.value.kind == REMOVABLE and "U盘" in caught.value.message and "数据文件夹" in caught.value.message
    with pytest.raises(UnsafeLocation, match="网络共享"):
        check_live_location("/mnt/township/临晋镇.db", platform="linux", mounts_text=MOUNTS, sys_root=fake_sys)
    check_live_location(db.path)  # the test machine's own disk is fine
    # WHEN the user accepts the copy (the file's folder has Chinese characters and spaces)
    stick = tmp_path / "U盘 KINGSTON" / "临晋 镇.db"
    stick.parent.mkdir()
    RegistryService(db).save_village(VillageInput(code="140821100201", name="西关村"))
    shutil.copyfile(backup_database(db.path, tmp_path), stick)
    first = copy_into_data_folder(stick)
    second = copy_into_data_folder(stick)
    # THEN copies land in the data folder, never overwriting each other, and open as townapp databases
    assert first == config.data_dir() / "临晋 镇.db" and second.name == "临晋 镇（2）.db"
    copied = open_database(second)
    try:
        assert [v.name for v in RegistryService(copied).villages()] == ["西关村"]
    finally:
        copied.dispose()


@pytest.fixture
def populated(db: Database) -> Database:
    RegistryService(db).save_village(VillageInput(code="140821100201", name="西关村"))
    add_people(db, 3000)
    return db


def _flip(source: Path, target: Path, seed: int, width: int) -> None:
    data = bytearray(source.read_bytes())
    rng = random.Random(seed)
    start = rng.randint(int(len(data) * 0.4), int(len(data) * 0.6))
    for i in range(start, start + width):
        data[i] ^= 0xFF
    target.write_bytes(bytes(data))


def test_a_corrupted_database_is_detected_at_start_up(populated: Database, tmp_path: Path) -> None:
    good = backup_database(populated.path, tmp_path / "copies")
    assert startup_problems(good) == []
    detected = 0
    # WHEN a 4 KiB run of bytes in the middle of the file is flipped (a bad sector), ten times at random places
    for seed in range(10):
        damaged = tmp_path / f"damaged-{seed}.db"
        _flip(good, damaged, seed, 4096)
        detected += bool(startup_problems(damaged))
    record("启动检查：文件中部翻转 4 KiB 后 quick_check 检出", f"{detected}/10")
    assert detected == 10
    # a few flipped bytes inside a stored value are beyond quick_check (SQLite keeps no page checksums):
    # measured, not asserted, so the limit is stated with the figures
    small = 0
    for seed in range(50):
        damaged = tmp_path / "small.db"
        _flip(good, damaged, 100 + seed, 16)
        small += bool(startup_problems(damaged))
    record("启动检查：仅翻转 16 字节时 quick_check 检出（局限，仅记录）", f"{small}/50")


def test_the_newest_good_backup_is_offered(populated: Database) -> None:
    folder = config.backup_dir()
    older = backup_database(populated.path, folder, "startup", now=dt.datetime(2026, 3, 1, 9))
    newer = backup_database(populated.path, folder, "exit", now=dt.datetime(2026, 3, 1, 17))
    newest = backup_database(populated.path, folder, "startup", now=dt.datetime(2026, 3, 2, 9))
    assert newest_good_backup(populated.path) == newest
    # GIVEN the newest backup is itself damaged THEN the next one is offered
    _flip(newest, newest, 1, 4096)
    assert newest_good_backup(populated.path) == newer
    assert older.exists()

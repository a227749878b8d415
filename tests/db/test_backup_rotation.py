"""Backup rotation: 7 daily, 4 weekly, 12 monthly copies; nothing deleted before the newest copy verifies.

Story: the township office starts the app every morning and closes it every
evening for 400 days; each start and exit takes a backup and rotates.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from tests.figures import record
from townapp.core.policy import RotationPolicy, security_policy
from townapp.db import Database
from townapp.db import backup as backup_module
from townapp.db.backup import backup_database, list_backups, rotate_backups
from townapp.registry.dto import VillageInput
from townapp.registry.service import RegistryService


def _expected_keep(last: dt.date, first: dt.date, policy: RotationPolicy) -> set[dt.date]:
    """The days whose evening backup the policy keeps, worked out by calendar arithmetic."""
    days = {last - dt.timedelta(days=k) for k in range(policy.daily)}
    week_end = last
    for _ in range(policy.weekly):  # newest of this ISO week, then each previous week's Sunday
        days.add(week_end)
        week_end = week_end - dt.timedelta(days=week_end.isoweekday())
    month_end = last
    for _ in range(policy.monthly):  # newest of this month, then each previous month's last day
        days.add(month_end)
        month_end = month_end.replace(day=1) - dt.timedelta(days=1)
    return {d for d in days if d >= first}


def test_policy_comes_from_the_data_file() -> None:
    assert security_policy().rotation == RotationPolicy(daily=7, weekly=4, monthly=12)


def test_rotation_over_400_days_keeps_exactly_the_policy_copies(db: Database, tmp_path: Path) -> None:
    RegistryService(db).save_village(VillageInput(code="140821100201", name="西关村"))
    folder = tmp_path / "backups"
    policy = security_policy().rotation
    first = dt.date(2025, 1, 1)
    written = 0
    # WHEN the app starts (09:00) and exits (17:30) every day for 400 days, rotating after each backup
    for n in range(400):
        day = first + dt.timedelta(days=n)
        for hour, reason in ((9, "startup"), (17, "exit")):
            backup_database(db.path, folder, reason, now=dt.datetime.combine(day, dt.time(hour, 30)))
            written += 1
            result = rotate_backups(folder, db.path.stem, policy)
            assert result.refused is None
        # the day's newest copy and the previous six days' are always there
        kept_days = {b.at.date() for b in list_backups(folder, db.path.stem)}
        assert {day - dt.timedelta(days=k) for k in range(min(7, n + 1))} <= kept_days
    # THEN exactly the policy's copies remain: each day's newest (evening) copy of the expected days
    last = first + dt.timedelta(days=399)
    kept = list_backups(folder, db.path.stem)
    expected = _expected_keep(last, first, policy)
    assert {(b.at.date(), b.reason) for b in kept} == {(d, "exit") for d in expected}
    # 7 daily + 4 weekly + 12 monthly buckets; the last day (a Wednesday) is in all three, last Sunday
    # and the month's last day are among the daily ones: 23 - 4 = 19 different copies
    assert len(kept) == len(expected) == 19
    assert sorted(p.name for p in folder.iterdir()) == sorted(b.path.name for b in kept)  # no .part files
    record("备份轮换：模拟 400 天写出的备份份数 / 保留份数", f"{written} / {len(kept)}（与策略推算一致）")


def _corrupt(path: Path) -> None:
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    for i in range(middle - 2048, middle + 2048):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def test_nothing_is_deleted_while_the_newest_copy_does_not_verify(db: Database, tmp_path: Path) -> None:
    service = RegistryService(db)
    for n in range(30):  # enough rows that the file has pages in the middle to damage
        service.save_village(VillageInput(code=f"1408211002{n:02d}", name=f"村{n}", groups=["一组", "二组", "三组"]))
    folder = tmp_path / "backups"
    for n in range(20):
        backup_database(db.path, folder, "startup", now=dt.datetime(2025, 1, 1) + dt.timedelta(days=n))
    # GIVEN the newest backup was damaged (a bad sector on the disk)
    newest = list_backups(folder, db.path.stem)[-1].path
    _corrupt(newest)
    before = sorted(p.name for p in folder.iterdir())
    # WHEN rotation runs THEN it deletes nothing and says why
    result = rotate_backups(folder, db.path.stem)
    assert result.deleted == [] and result.refused and "未通过完整性检查" in result.refused
    assert sorted(p.name for p in folder.iterdir()) == before
    # WHEN a good backup is taken next THEN rotation verifies it first, then deletes the surplus
    calls: list[str] = []
    original_verify, original_unlink = backup_module.integrity_problems, Path.unlink

    def verify(path: Path) -> list[str]:
        calls.append(f"verify {path.name}")
        return original_verify(path)

    def unlink(self: Path, missing_ok: bool = False) -> None:
        calls.append(f"delete {self.name}")
        original_unlink(self, missing_ok=missing_ok)

    good = backup_database(db.path, folder, "startup", now=dt.datetime(2025, 1, 21))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Path, "unlink", unlink)
        result = rotate_backups(folder, db.path.stem, verify=verify)
    assert calls[0] == f"verify {good.name}"
    assert len(result.deleted) == 21 - 7 - 2 and all(c.startswith("delete") for c in calls[1:])
    deleted_before_verify = sum(1 for c in calls[: calls.index(f"verify {good.name}")] if c.startswith("delete"))
    record("备份轮换：最新备份校验通过前删除的旧备份数", deleted_before_verify)
    assert deleted_before_verify == 0


def test_backups_of_other_databases_in_the_folder_are_left_alone(db: Database, tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    other = tmp_path / "demo.db"  # another townapp database (only townapp databases are backed up)
    db.dispose()
    shutil.copyfile(db.path, other)
    for n in range(12):
        backup_database(other, folder, "exit", now=dt.datetime(2025, 1, 1) + dt.timedelta(days=n))
    backup_database(db.path, folder, "exit", now=dt.datetime(2025, 2, 1))
    rotate_backups(folder, db.path.stem)
    assert len(list_backups(folder, "demo")) == 12


def test_the_backup_taken_before_an_import_outlives_the_routine_rotation(db: Database, tmp_path: Path) -> None:
    """GIVEN an import in the morning (its backup taken just before) and the app closed in the evening
    WHEN the exit backups of the following weeks rotate
    THEN the pre-import copy is still there (old main kept only the day's exit copy), as long as it is
    among the last 20 such copies or of the last 30 days; the routine copies keep their own rotation."""
    RegistryService(db).save_village(VillageInput(code="140821100201", name="西关村"))
    folder = tmp_path / "backups"
    policy = security_policy().rotation
    assert (policy.before_change_keep_last, policy.before_change_keep_days) == (20, 30)  # data, from policy.json
    day0 = dt.datetime(2025, 3, 3)
    pre_import = backup_database(db.path, folder, "import", now=day0.replace(hour=10))
    for n in range(45):  # an exit backup every evening for 45 days, rotating each time
        backup_database(db.path, folder, "exit", now=day0 + dt.timedelta(days=n, hours=17))
        rotate_backups(folder, db.path.stem, policy)
    kept = list_backups(folder, db.path.stem)
    assert pre_import in [b.path for b in kept]  # 45 days old, but it is the only pre-import copy
    routine = [b for b in kept if b.reason == "exit"]
    assert len(routine) == len(_expected_keep((day0 + dt.timedelta(days=44)).date(), day0.date(), policy))
    # WHEN 20 more imports happen on one later day THEN the first pre-import copy (older than 30 days,
    # no longer among the last 20) finally goes, and those 20 stay
    later = day0 + dt.timedelta(days=45)
    for n in range(20):
        backup_database(db.path, folder, "import", now=later + dt.timedelta(minutes=n))
    rotate_backups(folder, db.path.stem, policy)
    imports = [b for b in list_backups(folder, db.path.stem) if b.reason == "import"]
    assert len(imports) == 20 and pre_import not in [b.path for b in imports]
    record("备份轮换：导入前备份在 45 天退出备份轮换后仍保留", "是")

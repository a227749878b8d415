"""`townapp yearend`: the checklist and the close from the command line (DESIGN §8, extended)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from townapp import cli
from townapp.db import Database


def test_the_checklist_and_a_refused_close_and_a_closed_year(open_demo: Callable[..., Database],
                                                             capsys: pytest.CaptureFixture) -> None:
    """GIVEN the small demo as of 2026-07-01 (2025 closed on 27 February, 2026 under way)
    WHEN `townapp yearend` is asked about 2025, then 2026, then told to close 2026
    THEN 2025 says when and by whom it was closed and what the close did (exit 0); 2026 lists what is still
    open and where to finish it (exit 1); closing 2026 is refused naming the open items (exit 1), nothing closed."""
    db = open_demo("small", 11)
    path = db.location
    db.dispose()
    assert cli.main(["yearend", "--db", path, "--year", "2025"]) == 0
    out = capsys.readouterr().out
    assert "2025年度已于2026-02-27由演示管理员结转" in out and "党员积分" in out
    assert cli.main(["yearend", "--db", path, "--year", "2026", "--on", "2026-07-01"]) == 1
    out = capsys.readouterr().out
    assert "未完成  2026年度尚未结束" in out and "不能结转" in out
    assert cli.main(["yearend", "--db", path, "--year", "2026", "--close", "--on", "2026-07-01"]) == 1
    assert "2026年度还不能结转" in capsys.readouterr().err
    assert cli.main(["yearend", "--db", path, "--year", "2026", "--on", "2026-07-01"]) == 1  # still open
    assert db.server or Path(path).is_file()

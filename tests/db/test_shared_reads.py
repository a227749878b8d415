"""``Database.shared_reads``: a package's sheets share a read; nothing outside the block sees it.

Story: a township exports its package; 报表数据 and 党员年度积分 both need the year's
points totals, which take a noticeable share of the export. Inside the export
they are read once; a clerk's screen in another thread, or anything after the
export, reads the database afresh.
"""

from __future__ import annotations

import threading

from townapp.db import Database


def test_a_read_is_kept_only_inside_the_block_and_only_in_its_thread(db: Database) -> None:
    # GIVEN a read that counts how often it ran
    calls: list[str] = []

    def read() -> int:
        calls.append("read")
        return len(calls)

    # WHEN it is asked for twice outside the block THEN it runs twice
    assert db.read_once("k", read) == 1
    assert db.read_once("k", read) == 2
    # WHEN it is asked for twice inside (and in a nested block) THEN it runs once
    with db.shared_reads():
        assert db.read_once("k", read) == 3
        with db.shared_reads():
            assert db.read_once("k", read) == 3
        assert db.read_once("k", read) == 3
        # AND another thread meanwhile reads afresh
        seen: list[int] = []
        other = threading.Thread(target=lambda: seen.append(db.read_once("k", read)))
        other.start()
        other.join()
        assert seen == [4]
    # AND after the block the read runs again
    assert db.read_once("k", read) == 5

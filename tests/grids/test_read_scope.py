"""网格 reads are village-scoped in the service (issue 16).

Every public read of GridService is tried by every role on a clerk's own village and on another
one (tests/accounts/scope_matrix.py): a 村录入员 never sees another village's grids, members,
households, scores, subsidies or 最美网格员 (``stars`` used to list every village's).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from tests.accounts.scope_matrix import Read, sweep, unlisted, village_name, villages
from townapp.core.actor import ROLE_VILLAGE, Actor
from townapp.db import Database
from townapp.grids import models as g
from townapp.grids.service import GridService
from townapp.registry import models as m


def _grid(s: GridService, v: int) -> int:
    with s.db.reader() as r:
        return r.scalar(select(g.Grid.id).where(g.Grid.village_id == v).order_by(g.Grid.id).limit(1))


def _member_person(s: GridService, v: int) -> int:
    with s.db.reader() as r:
        return r.scalar(select(g.GridMember.person_id).join(g.Grid, g.Grid.id == g.GridMember.grid_id)
                        .where(g.Grid.village_id == v).limit(1))


def _household(s: GridService, v: int) -> int:
    with s.db.reader() as r:
        return r.scalar(select(g.GridAssignment.household_id).join(m.Household, m.Household.id ==
                                                                    g.GridAssignment.household_id)
                        .where(m.Household.village_id == v).limit(1))


def _locked(s: GridService) -> tuple[int, int]:
    with s.db.reader() as r:
        return r.execute(select(g.GridMonth.year, g.GridMonth.month).where(g.GridMonth.locked.is_(True))
                         .order_by(g.GridMonth.year.desc(), g.GridMonth.month.desc()).limit(1)).one()


def _star_month(s: GridService, v: int) -> tuple[int, int]:
    """A month with a 最美网格员 of village ``v``."""
    with s.db.reader() as r:
        return r.execute(select(g.GridMonth.year, g.GridMonth.month).join(g.GridStar, g.GridStar.month_id == g.GridMonth.id)
                         .where(g.GridStar.village_id == v).order_by(g.GridMonth.id).limit(1)).one()


READS: dict[str, Read] = {
    "tree": lambda s, v, _p: s.tree(v),
    "grid": lambda s, v, _p: s.grid(_grid(s, v)),
    "party_groups": lambda s, v, _p: s.party_groups(v),
    "history": lambda s, v, _p: s.history(_grid(s, v)) or [None],
    "roster": lambda s, v, _p: s.roster(_grid(s, v), include_past=True),
    "person_grids": lambda s, v, _p: s.person_grids(_member_person(s, v)),
    "find_people": lambda s, v, _p: s.find_people(v, ""),
    "find_people(全部)": lambda s, v, _p: [p for p in s.find_people(None, "", limit=100000)
                                         if p.id in _people(s, v)],
    "households": lambda s, v, _p: s.households(v),
    "household_history": lambda s, v, _p: s.household_history(_household(s, v)),
    "coverage": lambda s, v, _p: [c for c in s.coverage().villages if c.village_id == v],
    "warnings": lambda s, v, _p: [w for w in s.warnings() if w.startswith(village_name(s.db, v))],
    "month_sheet": lambda s, v, _p: s.month_sheet(*_locked(s), village_id=v).rows,
    "month_sheet(全部)": lambda s, v, _p: [r for r in s.month_sheet(*_locked(s)).rows if r.village_id == v],
    "subsidy_list": lambda s, v, _p: s.subsidy_list(*_locked(s), village_id=v).rows,
    "subsidy_list(全部)": lambda s, v, _p: [r for r in s.subsidy_list(*_locked(s)).rows
                                          if r.village == village_name(s.db, v)],
    "star_candidates": lambda s, v, _p: [r for r in s.star_candidates(*_star_month(s, v)) if r.village_id == v],
    "stars": lambda s, v, _p: [r for r in s.stars(*_star_month(s, v)) if r.village_id == v],
    "micro_grids": lambda s, v, _p: s.micro_grids(v),
    "village_groups": lambda s, v, _p: s.village_groups(v),
}
LISTINGS = {"person_grids", "find_people", "coverage", "warnings", "month_sheet", "subsidy_list", "star_candidates",
            "stars"}
WRITES = {"save_grid", "retire_grid", "restore_grid", "delete_grid", "save_member", "end_member", "assign", "unassign",
          "save_scores", "submit_month", "approve_month", "unlock_month", "relock_month", "choose_star", "remove_star",
          "batch_writer"}
# the month's state and scheme hold no village's data; check_* are a write's checks (refused like the write)
NOT_READS = {"month_state", "month_scheme", "months", "scheme", "check_grid", "check_member"}


def _people(s: GridService, v: int) -> set[int]:
    with s.db.reader() as r:
        return set(r.scalars(select(m.Person.id).where(m.Person.village_id == v)))


def test_every_public_read_is_in_the_matrix() -> None:
    assert unlisted(GridService, READS, WRITES, NOT_READS) == set()


def test_grid_reads_are_scoped_to_the_clerks_village(open_demo: Callable[..., Database], tmp_path: Path) -> None:
    """GIVEN the small demo township (grids, members, locked months, 最美网格员 in every village)
    WHEN each role calls every public read of GridService on a clerk's own village and on another
    THEN township roles and 只读 read both; the clerk reads their own and never the other (refused in Chinese,
    or absent from the listing)."""
    db = open_demo("small", 5)
    own, other = villages(db)
    leaks, problems = sweep(lambda a: GridService(db, a), READS, LISTINGS, own, other, tmp_path)
    assert leaks == [], "\n".join(leaks)
    assert problems == [], "\n".join(problems)


def test_a_clerk_never_sees_another_villages_stars(open_demo: Callable[..., Database]) -> None:
    """GIVEN a month whose 最美网格员 (one a month, 临猗) is of another village WHEN a clerk lists the month's
    stars THEN only their village's are listed, here none (before: every village's, with names and grids)."""
    db = open_demo("small", 5)
    own, _other = villages(db)
    with db.reader() as r:
        year, month = r.execute(select(g.GridMonth.year, g.GridMonth.month)
                                .join(g.GridStar, g.GridStar.month_id == g.GridMonth.id)
                                .where(g.GridStar.village_id != own).order_by(g.GridMonth.id).limit(1)).one()
    everyone = GridService(db).stars(year, month)
    clerk = GridService(db, Actor("文书", ROLE_VILLAGE, own)).stars(year, month)
    assert {r.village_id for r in clerk} <= {own} and len(everyone) > len(clerk)

"""Role matrix: every registry service action × every role, allowed or refused in the service.

管理员 and 乡镇干部 may do everything; 只读 reads everything and writes nothing;
村录入员 reads and writes only their own village, and township-wide actions
(new or deleted villages, initialising, townships) are not theirs. Each action
is tried on the clerk's own village and on another one; a listing that quietly
leaves the other village out counts as refused.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.figures import record
from townapp.core.actor import ROLE_ADMIN, ROLE_READONLY, ROLE_TOWNSHIP, ROLE_VILLAGE, Actor
from townapp.core.errors import PermissionDenied
from townapp.core.idcard import make_id_number
from townapp.db import Database, open_database
from townapp.registry.dto import HouseholdInput, MemberInput, PersonInput, SearchFilter, VillageInput
from townapp.registry.service import RegistryService

WEST, EAST = "140821100201", "140821100202"


@dataclass(frozen=True)
class Seed:
    village: dict[str, int]       # "own" (西关村, the clerk's) and "other" (东关村)
    household: dict[str, int]
    person: dict[str, int]        # a person living alone (not in a household)
    head: dict[str, int]          # the household head
    head_id_number: dict[str, str]
    branch: dict[str, int]


def _id(day: int, seq: int) -> str:
    return make_id_number("140821", dt.date(1980, 1, day), seq)


@pytest.fixture(scope="module")
def seeded(migrated_template: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Seed]:
    path = tmp_path_factory.mktemp("matrix") / "seed.db"
    shutil.copyfile(migrated_template, path)
    return path, seed_registry(path)


def seed_registry(path: Path) -> Seed:
    """西关村 (the clerk's) and 东关村, each with a household, a person living alone and a party branch."""
    db = open_database(path)
    service = RegistryService(db)
    service.initialise("township", "临晋镇", "140821100")
    out: dict[str, dict[str, Any]] = {k: {} for k in ("village", "household", "person", "head", "head_id", "branch")}
    for n, (side, code, name) in enumerate((("own", WEST, "西关村"), ("other", EAST, "东关村"))):
        vid = service.save_village(VillageInput(code=code, name=name, groups=["一组"]))
        head_id = _id(n + 1, 11)
        hid = service.save_household(HouseholdInput(vid, f"00{n + 1}", [MemberInput(PersonInput(head_id, f"户主{name}"), "户主")]))
        out["village"][side], out["household"][side] = vid, hid
        out["head"][side] = service.get_household(hid).members[0][0].id
        out["head_id"][side] = head_id
        out["person"][side] = service.save_person(PersonInput(_id(n + 1, 33), f"独居{name}", village_id=vid))
        out["branch"][side] = service.save_branch(f"{name}党支部", "党支部", village_id=vid)
    db.dispose()
    return Seed(out["village"], out["household"], out["person"], out["head"], out["head_id"], out["branch"])


ROLES_UNDER_TEST = (ROLE_ADMIN, ROLE_TOWNSHIP, ROLE_VILLAGE, ROLE_READONLY)


def actor_for(role: str, seed: Seed) -> Actor:
    return Actor(f"测试{role}", role, seed.village["own"] if role == ROLE_VILLAGE else None)


# Each action: (name, kind, call). ``call(service, seed, side)`` returns True when the action reached
# data of ``side`` (for listings: when that village's records were returned), raises PermissionDenied
# when refused. Kinds: "read" all roles, village-scoped for the clerk; "write" not 只读, village-scoped
# for the clerk; "township" 管理员/乡镇干部 only; "open" everyone (nothing village-specific).
Call = Callable[[RegistryService, Seed, str], bool]


def _new_person(seed: Seed, side: str, seq: int) -> PersonInput:
    return PersonInput(_id(20, seq), "新人", village_id=seed.village[side])


def _household_input(service: RegistryService, seed: Seed, side: str) -> HouseholdInput:
    h = service.get_household(seed.household[side]) if side == "own" or service.actor.role != ROLE_VILLAGE \
        else None
    if h is None:  # the clerk cannot even read it: build the input from what an attacker could know
        return HouseholdInput(seed.village[side], "001", [MemberInput(PersonInput(seed.head_id_number[side], "改名",
                                                                                    id=seed.head[side]), "户主")],
                              id=seed.household[side], address="改过的地址")
    members = [MemberInput(p.as_input(), rel) for p, rel in h.members]
    return HouseholdInput(h.village_id, h.number, members, h.group_id, "改过的地址", id=h.id)


ACTIONS: list[tuple[str, str, Call]] = [
    ("townships", "open", lambda s, seed, side: bool(s.townships())),
    ("villages", "read", lambda s, seed, side: any(v.id == seed.village[side] for v in s.villages())),
    ("village_groups", "read", lambda s, seed, side: bool(s.village_groups(seed.village[side]))),
    ("person_ids", "read", lambda s, seed, side: seed.person[side] in s.person_ids(SearchFilter())),
    ("person_ids(村筛选)", "read",
     lambda s, seed, side: seed.person[side] in s.person_ids(SearchFilter(village_id=seed.village[side]))),
    ("person_rows", "read", lambda s, seed, side: seed.person[side] in s.person_rows([seed.person[side]])),
    ("get_person", "read", lambda s, seed, side: s.get_person(seed.person[side]).id == seed.person[side]),
    ("find_person_by_id_number", "read",
     lambda s, seed, side: s.find_person_by_id_number(seed.head_id_number[side]) is not None),
    ("household_ids", "read", lambda s, seed, side: seed.household[side] in s.household_ids(SearchFilter())),
    ("household_ids(村筛选)", "read",
     lambda s, seed, side: seed.household[side] in s.household_ids(SearchFilter(village_id=seed.village[side]))),
    ("household_rows", "read",
     lambda s, seed, side: seed.household[side] in s.household_rows([seed.household[side]])),
    ("get_household", "read", lambda s, seed, side: s.get_household(seed.household[side]).id > 0),
    ("branches", "read", lambda s, seed, side: any(b.id == seed.branch[side] for b in s.branches())),
    ("branches(村)", "read",
     lambda s, seed, side: any(b.id == seed.branch[side] for b in s.branches(seed.village[side]))),
    ("counts", "read",
     lambda s, seed, side: s.counts().villages == 2 and s.counts().people == 4 if side == "other"
     else s.counts().people >= 2),
    ("check_village(修改)", "write", lambda s, seed, side: s.check_village(
        VillageInput(WEST if side == "own" else EAST, "改名村", groups=["一组"], id=seed.village[side])) == []),
    ("save_village(修改)", "write", lambda s, seed, side: s.save_village(
        VillageInput(WEST if side == "own" else EAST, "改名村", groups=["一组", "二组"],
                     id=seed.village[side])) == seed.village[side]),
    ("check_person", "write", lambda s, seed, side: _no_errors(s.check_person(_new_person(seed, side, 51)))),
    ("save_person(新增)", "write", lambda s, seed, side: s.save_person(_new_person(seed, side, 53)) > 0),
    ("save_person(修改)", "write", lambda s, seed, side: s.save_person(
        PersonInput(_id(2 if side == "other" else 1, 33), "改名", village_id=seed.village[side],
                    id=seed.person[side])) == seed.person[side]),
    ("save_person(迁到本村)", "write", lambda s, seed, side: s.save_person(
        PersonInput(_id(2 if side == "other" else 1, 33), "迁入", village_id=seed.village["own"],
                    id=seed.person[side])) == seed.person[side]),
    ("delete_person", "write", lambda s, seed, side: s.delete_person(seed.person[side]) is None),
    ("check_household", "write", lambda s, seed, side: _no_errors(s.check_household(HouseholdInput(
        seed.village[side], "099", [MemberInput(_new_person(seed, side, 55), "户主")])))),
    ("save_household(新增)", "write", lambda s, seed, side: s.save_household(HouseholdInput(
        seed.village[side], "099", [MemberInput(_new_person(seed, side, 57), "户主")])) > 0),
    ("save_household(修改)", "write",
     lambda s, seed, side: s.save_household(_household_input(s, seed, side)) == seed.household[side]),
    ("save_household(成员按身份证号取用)", "write", lambda s, seed, side: s.save_household(HouseholdInput(
        seed.village["own"], "098", [MemberInput(PersonInput(_id(2 if side == "other" else 1, 33), "借用"),
                                                "户主")])) > 0),
    ("delete_household", "write", lambda s, seed, side: s.delete_household(seed.household[side]) is None),
    ("save_branch(新增)", "write",
     lambda s, seed, side: s.save_branch("新支部", "党支部", village_id=seed.village[side]) > 0),
    ("save_branch(修改)", "write", lambda s, seed, side: s.save_branch(
        "改名支部", "党支部", village_id=seed.village["own"], branch_id=seed.branch[side]) == seed.branch[side]),
    ("initialise", "township", lambda s, seed, side: _initialise(s)),
    ("add_township", "township", lambda s, seed, side: s.add_township("140821101", "角杯乡") > 0),
    ("check_village(新增)", "township", lambda s, seed, side: s.check_village(
        VillageInput("140821100299", "新村")) == []),
    ("save_village(新增)", "township", lambda s, seed, side: s.save_village(
        VillageInput("140821100299", "新村")) > 0),
    ("delete_village", "township", lambda s, seed, side: _delete_village(s, seed, side)),
]


def _no_errors(problems: list) -> bool:
    return not [p for p in problems if p.severity == "error"]


def _initialise(service: RegistryService) -> bool:
    from townapp.core.errors import DomainError

    try:
        service.initialise("township", "临晋镇", "140821100")
    except PermissionDenied:
        raise
    except DomainError as exc:  # the permission check passed; the database already has its township
        return "已经初始化" in exc.message
    return False


def _delete_village(service: RegistryService, seed: Seed, side: str) -> bool:
    """A village is deleted once its records are gone; the permission decides before anything is read."""
    vid = service.save_village(VillageInput("140821100298", "空村")) if service.actor.role in (
        ROLE_ADMIN, ROLE_TOWNSHIP) else seed.village[side]
    service.delete_village(vid)
    return True


def expected(kind: str, role: str, side: str) -> bool:
    if kind == "open":
        return True
    if kind == "township":
        return role in (ROLE_ADMIN, ROLE_TOWNSHIP)
    if role == ROLE_VILLAGE:
        return side == "own"
    if kind == "write":
        return role != ROLE_READONLY
    return True


OUTCOMES: dict[tuple[str, str, str], bool] = {}


@pytest.fixture
def fresh(seeded: tuple[Path, Seed], tmp_path: Path) -> tuple[Database, Seed]:
    path = tmp_path / "matrix.db"
    shutil.copyfile(seeded[0], path)
    db = open_database(path)
    yield db, seeded[1]
    db.dispose()


@pytest.mark.parametrize("side", ["own", "other"])
@pytest.mark.parametrize("role", ROLES_UNDER_TEST)
@pytest.mark.parametrize("action", [a[0] for a in ACTIONS])
def test_role_matrix(action: str, role: str, side: str, fresh: tuple[Database, Seed]) -> None:
    db, seed = fresh
    name, kind, call = next(a for a in ACTIONS if a[0] == action)
    service = RegistryService(db, actor_for(role, seed))
    # WHEN the role tries the action on its own village's record or another village's
    try:
        reached = call(service, seed, side)
    except PermissionDenied as exc:
        reached = False
        assert exc.message  # a Chinese reason the UI shows as it is
    allowed = expected(kind, role, side)
    OUTCOMES[(action, role, side)] = reached
    _record_figures()
    # THEN it succeeds exactly when the role allows it
    assert reached is allowed, f"{action} × {role} × {side}: {'成功' if reached else '被拒绝'}"


def _record_figures() -> None:
    """The figures of the combinations run so far: each test records them, so no test depends on another
    having run first (the whole matrix, a subset or one test alone all print true figures)."""
    kinds = {a[0]: a[1] for a in ACTIONS}
    clerk_other = [ok for (a, role, side), ok in OUTCOMES.items()
                   if role == ROLE_VILLAGE and side == "other" and kinds[a] != "open"]
    record("角色矩阵：操作 × 角色 × 本村/他村 组合数", len(OUTCOMES))
    record("角色矩阵：村录入员对他村记录的尝试 成功/总数", f"{sum(clerk_other)}/{len(clerk_other)}")


def test_matrix_covers_every_public_service_action() -> None:
    """Every public method is here or, for the import adapters' batch door, in the generated matrix."""
    from tests.accounts.test_service_matrix import TABLE

    public = {n for n in dir(RegistryService) if not n.startswith("_") and callable(getattr(RegistryService, n))}
    covered = {a[0].split("(")[0] for a in ACTIONS} | {k.split(".")[1] for k in TABLE if k.startswith("RegistryService.")}
    assert public - covered == set(), "role matrix misses service actions"

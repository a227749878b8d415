"""Who may do what: the one permission helper every module's service calls.

Roles (DESIGN §7): 管理员 and 乡镇干部 read and write everything; 村录入员 reads
and writes only the village their account is tied to; 只读 reads everything and
writes nothing. User management is for 管理员 only. Checks live in services,
so a hidden button is never the only thing standing in the way.
"""

from __future__ import annotations

from townapp.core.actor import ROLE_ADMIN, ROLE_READONLY, ROLE_TOWNSHIP, ROLE_VILLAGE, ROLES, Actor
from townapp.core.errors import PermissionDenied

# A village clerk whose account lost its village sees nothing (never "everything").
NO_VILLAGE = -1


def _known(actor: Actor) -> None:
    if actor.role not in ROLES:
        raise PermissionDenied(f"账号角色“{actor.role}”无效，请联系管理员")


def can_write(actor: Actor) -> bool:
    return actor.role in (ROLE_ADMIN, ROLE_TOWNSHIP, ROLE_VILLAGE)


def is_township_level(actor: Actor) -> bool:
    return actor.role in (ROLE_ADMIN, ROLE_TOWNSHIP)


def visible_village(actor: Actor) -> int | None:
    """The only village a clerk may see, or None for roles that see every village."""
    _known(actor)
    if actor.role == ROLE_VILLAGE:
        return actor.village_id if actor.village_id is not None else NO_VILLAGE
    return None


def may_read(actor: Actor, village_id: int | None) -> bool:
    visible = visible_village(actor)
    return visible is None or village_id == visible


def require_read(actor: Actor, village_id: int | None, what: str = "数据") -> None:
    """A record of ``village_id`` is about to be shown to ``actor``."""
    if not may_read(actor, village_id):
        raise PermissionDenied(f"村录入员只能查看本村的{what}")


def require_write(actor: Actor, village_id: int | None, what: str = "数据") -> None:
    """A record of ``village_id`` (None: township-level) is about to be changed by ``actor``."""
    _known(actor)
    if actor.role == ROLE_READONLY:
        raise PermissionDenied("当前账号为只读，不能修改数据")
    if actor.role == ROLE_VILLAGE and (actor.village_id is None or village_id != actor.village_id):
        raise PermissionDenied(f"村录入员只能修改本村的{what}")


def require_writer(actor: Actor) -> None:
    """Before a change (or its check) whose villages are checked one by one later: 只读 changes nothing."""
    _known(actor)
    if actor.role == ROLE_READONLY:
        raise PermissionDenied("当前账号为只读，不能修改数据")


def require_township(actor: Actor, action: str = "此操作") -> None:
    """Township-wide changes (new villages, settings): 管理员 and 乡镇干部 only."""
    _known(actor)
    if actor.role == ROLE_READONLY:
        raise PermissionDenied("当前账号为只读，不能修改数据")
    if not is_township_level(actor):
        raise PermissionDenied(f"{action}需要乡镇干部或管理员账号")


def require_township_export(actor: Actor, what: str = "此文件") -> None:
    """Files holding the whole township's data or full ID numbers (the sync package): 管理员 and 乡镇干部 only.

    Unlike ``require_township`` this is a read, so 只读 gets the same answer as a clerk.
    """
    _known(actor)
    if not is_township_level(actor):
        raise PermissionDenied(f"{what}含全乡镇人员的完整身份证号，只有乡镇干部或管理员账号可以导出")


def require_admin(actor: Actor, action: str = "此操作") -> None:
    """Accounts, the audit log, restore: 管理员 only."""
    _known(actor)
    if actor.role != ROLE_ADMIN:
        raise PermissionDenied(f"{action}需要管理员账号")

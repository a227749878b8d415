"""Who acts: every service call knows it, every audit entry records it."""

from __future__ import annotations

from dataclasses import dataclass

ROLE_ADMIN = "管理员"
ROLE_TOWNSHIP = "乡镇干部"
ROLE_VILLAGE = "村录入员"
ROLE_READONLY = "只读"
ROLES = (ROLE_ADMIN, ROLE_TOWNSHIP, ROLE_VILLAGE, ROLE_READONLY)


@dataclass(frozen=True)
class Actor:
    username: str
    role: str = ROLE_ADMIN
    village_id: int | None = None  # set for 村录入员: the one village they may touch


CLI_ACTOR = Actor("命令行", ROLE_ADMIN)
DEMO_ACTOR = Actor("演示管理员", ROLE_ADMIN)
SYSTEM_ACTOR = Actor("系统", ROLE_ADMIN)

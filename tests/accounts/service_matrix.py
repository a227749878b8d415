"""The generated role matrix's machinery (issue 17): find every service, every public method, judge outcomes.

Services are found by introspection: every ``townapp`` module outside ``townapp.ui`` is imported and
every class whose name ends in ``Service`` is collected, so a new service, or a new public method of an
old one, shows up in the matrix without anyone listing it — and fails until it has an entry in the
call table (tests/accounts/test_service_matrix.py).

Kinds (what a role may do):
  read      everyone; a 村录入员 only their own village (another's: refused, or absent from a listing)
  write     not 只读; a 村录入员 only their own village
  township  管理员 and 乡镇干部 only (township-wide changes: rules, rounds, months, the store, printing)
  admin     管理员 only (accounts, the audit log)
  open      everyone: nothing of any village in it (shipped rules and schemes, logging in, pure field checks)
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import townapp
from townapp.core.actor import ROLE_ADMIN, ROLE_READONLY, ROLE_TOWNSHIP, ROLE_VILLAGE, Actor
from townapp.core.errors import DomainError, PermissionDenied
from townapp.db import Database

ROLES = (ROLE_ADMIN, ROLE_TOWNSHIP, ROLE_VILLAGE, ROLE_READONLY)
KINDS = ("read", "write", "township", "admin", "open")
SIDES = ("own", "other")


@dataclass
class World:
    """A seeded database the calls run on: the clerk's village ("own") and another one ("other")."""

    db: Database
    village: dict[str, int]
    folder: Path
    extra: Any = None  # what a service's own seeding handed over (the registry's Seed)


# call(service, world, side) → what the role reached on that side's village: truthy = it got through.
Call = Callable[[Any, World, str], Any]


@dataclass(frozen=True)
class Case:
    kind: str
    call: Call
    listing: bool = False  # refusal may be silence: nothing of the other village comes back
    label: str = ""
    by_rule: bool = False  # a reference across villages: a data rule that binds every role may refuse it


def service_classes() -> dict[str, type]:
    """Every ``*Service`` class defined in ``townapp`` (the GUI package aside), by class name."""
    found: dict[str, type] = {}
    for info in pkgutil.walk_packages(townapp.__path__, "townapp."):
        if info.name == "townapp.ui" or info.name.startswith("townapp.ui.") or info.name == "townapp.__main__":
            continue
        module = importlib.import_module(info.name)
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if name.endswith("Service") and cls.__module__ == module.__name__:
                found[name] = cls
    return found


def public_methods(cls: type) -> list[str]:
    """Public methods defined on the class itself (functions, static and class methods; not properties)."""
    return sorted(name for name, member in vars(cls).items()
                  if not name.startswith("_") and isinstance(member, (staticmethod, classmethod))
                  or not name.startswith("_") and inspect.isfunction(member))


def expected(kind: str, role: str, side: str) -> bool:
    """Whether ``role`` may do a ``kind`` action on ``side``'s village."""
    if kind == "open":
        return True
    if kind == "admin":
        return role == ROLE_ADMIN
    if kind == "township":
        return role in (ROLE_ADMIN, ROLE_TOWNSHIP)
    if role == ROLE_VILLAGE and side == "other":
        return False
    return not (kind == "write" and role == ROLE_READONLY)


def refusal(exc: DomainError) -> bool:
    """A refusal the user understands: PermissionDenied, or a check that names the role's limit."""
    return isinstance(exc, PermissionDenied) or any(word in exc.message for word in ("村录入员", "无权", "只读"))


def actor_for(role: str, own: int) -> Actor:
    return Actor(f"测试{role}", role, own if role == ROLE_VILLAGE else None)


def outcome(case: Case, service: Any, world: World, side: str, allowed: bool) -> tuple[bool, str]:
    """(reached, problem) of one call: problem is "" when the outcome is what the role allows."""
    try:
        seen = case.call(service, world, side)
    except DomainError as exc:
        if refusal(exc):
            if allowed:
                return False, f"不该拒绝：{exc.message}"
            return False, "" if exc.message else "拒绝时没有说明"
        if allowed:  # the guard let it through; the arguments met a rule of the data (that is not this test's)
            return True, ""
        if case.by_rule and side == "other":
            return False, ""
        return True, f"没有被权限拒绝，而是：{type(exc).__name__}：{exc.message}"
    if allowed:  # that there is something to read is each module's read-scope test's concern
        return True, ""
    if case.listing and not seen:
        return False, ""  # the listing quietly left the other village out
    return True, f"越权成功：{seen!r:.120}"

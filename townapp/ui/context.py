"""What every page gets: the database, who is acting, the services, the settings."""

from __future__ import annotations

from dataclasses import dataclass

from townapp.config import Settings
from townapp.core.actor import Actor
from townapp.db import Database
from townapp.registry.service import RegistryService


@dataclass
class AppContext:
    db: Database
    actor: Actor
    settings: Settings
    registry: RegistryService

    @classmethod
    def create(cls, db: Database, actor: Actor, settings: Settings | None = None) -> AppContext:
        return cls(db=db, actor=actor, settings=settings or Settings(), registry=RegistryService(db, actor))

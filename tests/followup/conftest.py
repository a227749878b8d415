"""Follow-up fixtures: the evaluations' two hand-made villages and a finalised 2025 评星定级 round."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tests.evaluations.conftest import World, build_world, new_round
from tests.evaluations.test_other_schemes import finish
from townapp.db import Database
from townapp.evaluations.dto import EntryInput
from townapp.evaluations.service import EvaluationService
from townapp.registry.service import RegistryService

FINALISED = dt.date(2025, 12, 31)  # what finish() gives
__all__ = ["FINALISED", "finish", "star_round"]


@pytest.fixture
def world(db: Database, registry: RegistryService) -> World:
    return build_world(registry)


@pytest.fixture
def evaluations(db: Database) -> EvaluationService:
    service = EvaluationService(db)
    assert not service.sync_schemes().refused
    return service


def star_round(service: EvaluationService, world: World, scores: dict[str, Decimal], year: int = 2025,
               negatives: dict[str, dict[str, str]] | None = None) -> int:
    """A 评星定级 round where each village (by name) scores the same on every indicator, finalised."""
    round_id = new_round(service, world, "village_org_star", year)
    codes = [i.code for i in service.round(round_id).scheme.indicators]
    ids = {r.label: r.target_id for r in service.sheet(round_id)}
    service.save_entries([EntryInput(ids[f"{name}党组织"], "town", dict.fromkeys(codes, value),
                                     (negatives or {}).get(name)) for name, value in scores.items()])
    finish(service, round_id, year)
    return round_id

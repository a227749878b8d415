"""The feature modules, listed once: what each one hands the composition roots.

Each entry says, in one typed place, a module's sheet specs for the exchange,
its consistency checks, its figures for the returns, its certificate sources
and its demo builder. ``townapp/sheets.py``, ``checks.py``, ``figures.py`` and
``demo.py`` read their lists from here instead of naming the modules again;
the GUI's pages have their own table on the ui side (``townapp/ui/pages/table.py``),
since nothing outside townapp/ui may import Qt.

A composition root (like ``townapp/schema.py``): it imports every module;
no module, and neither ``townapp.exchange`` nor ``townapp.outputs``, imports it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from townapp.archives import checks as archive_checks
from townapp.archives import demo as archive_demo
from townapp.archives import figures as archive_figures
from townapp.archives import sheets as archive_sheets
from townapp.core.errors import CheckReport
from townapp.db import Database
from townapp.demokit import Step
from townapp.evaluations import demo as evaluation_demo
from townapp.evaluations import figures as evaluation_figures
from townapp.exchange.spec import SheetSpec
from townapp.grids import checks as grid_checks
from townapp.grids import demo as grid_demo
from townapp.grids import figures as grid_figures
from townapp.grids import sheets as grid_sheets
from townapp.outputs.figures import Figure
from townapp.points import checks as points_checks
from townapp.points import demo as points_demo
from townapp.points import sheets as points_sheets
from townapp.registry import checks as registry_checks
from townapp.registry import demo as registry_demo
from townapp.registry import figures as registry_figures
from townapp.registry import sheets as registry_sheets
from townapp.sources import (
    EVALUATION_ROUNDS,
    GRID_STARS,
    POINTS_GRADES,
    CertificateSource,
    points_figure_list,
)

Check = Callable[[Database, CheckReport, dict], None]


@dataclass(frozen=True)
class FeatureModule:
    """One module's wiring. Lists keep the module order: the exchange imports sheets in this order
    (a row only refers to sheets before it), the demo builds in it, the checks run in it."""

    name: str
    title: str
    sheet_specs: Callable[[], list[SheetSpec]] | None = None
    checks: tuple[Check, ...] = ()
    figures: Callable[[Database], list[Figure]] | None = None
    certificate_sources: tuple[CertificateSource, ...] = ()
    demo_step: Step | None = None
    # sheets the module imports on its own page, not through the exchange: recognised there and sent here
    own_page_sheets: Callable[[], list[SheetSpec]] | None = None
    own_page: str = ""


MODULES: tuple[FeatureModule, ...] = (
    FeatureModule("registry", "人口与党员", sheet_specs=registry_sheets.sheet_specs,
                  checks=(registry_checks.registry_checks,), figures=lambda _db: registry_figures.figures(),
                  demo_step=registry_demo.build_township),
    FeatureModule("archives", "一村一档", sheet_specs=archive_sheets.sheet_specs,
                  checks=(archive_checks.archive_checks,), figures=lambda _db: archive_figures.figures(),
                  demo_step=archive_demo.build_township),
    FeatureModule("evaluations", "评星定级", figures=lambda _db: evaluation_figures.figures(),
                  certificate_sources=(EVALUATION_ROUNDS,), demo_step=evaluation_demo.build_township),
    FeatureModule("grids", "网格化管理", sheet_specs=grid_sheets.sheet_specs, checks=(grid_checks.grid_checks,),
                  figures=lambda _db: grid_figures.figures(), certificate_sources=(GRID_STARS,),
                  demo_step=grid_demo.build_township),
    FeatureModule("points", "党员积分", checks=(points_checks.points_checks,), figures=points_figure_list,
                  certificate_sources=(POINTS_GRADES,), demo_step=points_demo.build_township,
                  own_page_sheets=points_sheets.sheet_specs, own_page="“党员积分”页"),
    FeatureModule("outputs", "报表与证书"),
    FeatureModule("accounts", "用户与权限"),
)


def sheet_specs() -> list[SheetSpec]:
    """Every module's exchange sheets, in import order."""
    return [spec for module in MODULES if module.sheet_specs is not None for spec in module.sheet_specs()]


def sheets_imported_elsewhere() -> list[tuple[SheetSpec, str]]:
    """Sheets the exchange recognises but leaves to their module's page, with where that is."""
    return [(spec, module.own_page) for module in MODULES if module.own_page_sheets is not None
            for spec in module.own_page_sheets()]


def module_checks() -> tuple[Check, ...]:
    return tuple(check for module in MODULES for check in module.checks)


def figure_providers() -> tuple[Callable[[Database], list[Figure]], ...]:
    return tuple(module.figures for module in MODULES if module.figures is not None)


def certificate_sources() -> tuple[CertificateSource, ...]:
    return tuple(source for module in MODULES for source in module.certificate_sources)


def demo_steps() -> tuple[tuple[str, Step], ...]:
    return tuple((module.name, module.demo_step) for module in MODULES if module.demo_step is not None)

"""The feature modules, listed once: what each one hands the composition roots.

Each entry says, in one typed place, a module's sheet specs for the exchange,
its consistency checks, its figures for the returns, its certificate sources
and its demo builder. ``townapp/sheets.py``, ``checks.py``, ``figures.py`` and
``demo.py`` read their lists from here instead of naming the modules again;
the GUI's pages have their own table on the ui side (``townapp/ui/pages/table.py``),
since nothing outside townapp/ui may import Qt.

A composition root (like ``townapp/schema.py``): it names every module, each part imported when it is
asked for; no module, and neither ``townapp.exchange`` nor ``townapp.outputs``, imports it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from townapp.core.errors import CheckReport
    from townapp.db import Database
    from townapp.demokit import Step
    from townapp.exchange.spec import SheetSpec
    from townapp.outputs.figures import Figure
    from townapp.sources import CertificateSource

Check = Callable[["Database", "CheckReport", dict], None]  # a module's consistency checks (townapp check)


@dataclass(frozen=True)
class FeatureModule:
    """One module's wiring. Lists keep the module order: the exchange imports sheets in this order
    (a row only refers to sheets before it), the demo builds in it, the checks run in it.

    Each part is a function that imports its module when asked: ``townapp import`` needs the sheets,
    not the demo builders, the PDF outputs or every service (importing all of them took half a second
    and 40 MB more at every command's start)."""

    name: str
    title: str
    sheet_specs: Callable[[], list[SheetSpec]] | None = None
    checks: Callable[[], tuple[Check, ...]] | None = None
    figures: Callable[[Database], list[Figure]] | None = None
    certificate_sources: Callable[[], tuple[CertificateSource, ...]] | None = None
    demo_step: Callable[[], Step] | None = None
    # sheets the module imports on its own page, not through the exchange: recognised there and sent here
    own_page_sheets: Callable[[], list[SheetSpec]] | None = None
    own_page: str = ""
    # what the module reports up in a sync package only (its results as decided: the county keeps them)
    reported_sheets: Callable[[Database], list[SheetSpec]] | None = None


# ----- registry -----------------------------------------------------------------------------------
def _registry_sheets() -> list[SheetSpec]:
    from townapp.registry.sheets import sheet_specs
    return sheet_specs()


def _registry_checks() -> tuple[Check, ...]:
    from townapp.registry.checks import registry_checks
    return (registry_checks,)


def _registry_figures(_db: Database) -> list[Figure]:
    from townapp.registry.figures import figures
    return figures()


def _registry_demo() -> Step:
    from townapp.registry.demo import build_township
    return build_township


# ----- archives -----------------------------------------------------------------------------------
def _archive_sheets() -> list[SheetSpec]:
    from townapp.archives.sheets import sheet_specs
    return sheet_specs()


def _archive_checks() -> tuple[Check, ...]:
    from townapp.archives.checks import archive_checks
    return (archive_checks,)


def _archive_figures(_db: Database) -> list[Figure]:
    from townapp.archives.figures import figures
    return figures()


def _archive_demo() -> Step:
    from townapp.archives.demo import build_township
    return build_township


# ----- evaluations --------------------------------------------------------------------------------
def _evaluation_figures(_db: Database) -> list[Figure]:
    from townapp.evaluations.figures import figures
    return figures()


def _evaluation_sources() -> tuple[CertificateSource, ...]:
    from townapp.sources import EVALUATION_ROUNDS
    return (EVALUATION_ROUNDS,)


def _evaluation_demo() -> Step:
    from townapp.evaluations.demo import build_township
    return build_township


# ----- follow-up ----------------------------------------------------------------------------------
def _followup_checks() -> tuple[Check, ...]:
    from townapp.followup.checks import followup_checks
    return (followup_checks,)


# ----- grids --------------------------------------------------------------------------------------
def _grid_sheets() -> list[SheetSpec]:
    from townapp.grids.sheets import sheet_specs
    return sheet_specs()


def _grid_checks() -> tuple[Check, ...]:
    from townapp.grids.checks import grid_checks
    return (grid_checks,)


def _grid_figures(_db: Database) -> list[Figure]:
    from townapp.grids.figures import figures
    return figures()


def _grid_sources() -> tuple[CertificateSource, ...]:
    from townapp.sources import GRID_STARS
    return (GRID_STARS,)


def _grid_demo() -> Step:
    from townapp.grids.demo import build_township
    return build_township


# ----- points -------------------------------------------------------------------------------------
def _points_checks() -> tuple[Check, ...]:
    from townapp.points.checks import points_checks
    return (points_checks,)


def _points_figures(db: Database) -> list[Figure]:
    from townapp.sources import points_figure_list
    return points_figure_list(db)


def _points_sources() -> tuple[CertificateSource, ...]:
    from townapp.sources import POINTS_GRADES
    return (POINTS_GRADES,)


def _points_demo() -> Step:
    from townapp.points.demo import build_township
    return build_township


def _points_reported(db: Database) -> list[SheetSpec]:
    from townapp.points.sheets import reported_specs
    return reported_specs(db)


def _evaluation_reported(db: Database) -> list[SheetSpec]:
    from townapp.evaluations.sheets import reported_specs
    return reported_specs()


def _points_own_sheets() -> list[SheetSpec]:
    from townapp.points.sheets import sheet_specs
    return sheet_specs()


MODULES: tuple[FeatureModule, ...] = (
    FeatureModule("registry", "人口与党员", sheet_specs=_registry_sheets, checks=_registry_checks,
                  figures=_registry_figures, demo_step=_registry_demo),
    FeatureModule("archives", "一村一档", sheet_specs=_archive_sheets, checks=_archive_checks,
                  figures=_archive_figures, demo_step=_archive_demo),
    FeatureModule("evaluations", "评星定级", figures=_evaluation_figures, certificate_sources=_evaluation_sources,
                  demo_step=_evaluation_demo, reported_sheets=_evaluation_reported),
    FeatureModule("followup", "整改跟踪", checks=_followup_checks),
    FeatureModule("grids", "网格化管理", sheet_specs=_grid_sheets, checks=_grid_checks, figures=_grid_figures,
                  certificate_sources=_grid_sources, demo_step=_grid_demo),
    FeatureModule("points", "党员积分", checks=_points_checks, figures=_points_figures,
                  certificate_sources=_points_sources, demo_step=_points_demo,
                  own_page_sheets=_points_own_sheets, own_page="“党员积分”页", reported_sheets=_points_reported),
    FeatureModule("outputs", "报表与证书"),
    FeatureModule("accounts", "用户与权限"),
)


def sheet_specs() -> list[SheetSpec]:
    """Every module's exchange sheets, in import order."""
    return [spec for module in MODULES if module.sheet_specs is not None for spec in module.sheet_specs()]


def reported_sheets(db: Database) -> list[SheetSpec]:
    """Every module's sheets that only sync packages carry up, in module order."""
    return [spec for module in MODULES if module.reported_sheets is not None for spec in module.reported_sheets(db)]


def sheets_imported_elsewhere() -> list[tuple[SheetSpec, str]]:
    """Sheets the exchange recognises but leaves to their module's page, with where that is."""
    return [(spec, module.own_page) for module in MODULES if module.own_page_sheets is not None
            for spec in module.own_page_sheets()]


def module_checks() -> tuple[Check, ...]:
    return tuple(check for module in MODULES if module.checks is not None for check in module.checks())


def figure_providers() -> tuple[Callable[[Database], list[Figure]], ...]:
    return tuple(module.figures for module in MODULES if module.figures is not None)


def certificate_sources() -> tuple[CertificateSource, ...]:
    return tuple(source for module in MODULES if module.certificate_sources is not None
                 for source in module.certificate_sources())


def demo_steps() -> tuple[tuple[str, Step], ...]:
    return tuple((module.name, module.demo_step()) for module in MODULES if module.demo_step is not None)

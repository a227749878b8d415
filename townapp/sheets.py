"""Every module's sheet specs for the exchange, in import order.

A composition root like ``townapp/schema.py``: the modules register their
sheets in ``townapp/modules.py``; ``townapp.exchange`` never imports either —
cli.py and the GUI hand it this list.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from townapp.exchange.spec import SheetSpec
from townapp.modules import reported_sheets, sheet_specs, sheets_imported_elsewhere

if TYPE_CHECKING:
    from townapp.db import Database


def all_sheet_specs() -> list[SheetSpec]:
    """Specs in the order their sheets are imported (a row only refers to sheets before it)."""
    return sheet_specs()


def elsewhere_sheet_specs() -> list[tuple[SheetSpec, str]]:
    """Sheets the exchange's import recognises and sends to their module's page (积分记录 …)."""
    return sheets_imported_elsewhere()


def package_sheet_specs(db: Database, *, receiving: bool = False) -> list[SheetSpec]:
    """A sync package's sheets: every module's, then what the township reports up (the modules' results,
    the return's figures, the certificates), then the county's decisions a return package brings down.

    The same list writes a package and imports one (a person's workbook never matches the package-only
    sheets). ``receiving``: the list an import uses — a village install then also takes the township's
    package down (its rules, schemes and results), which its own package never sends back up."""
    from townapp.county.service import decision_sheet
    from townapp.county.upward import reported_sheets as county_sheets
    from townapp.figures import figure_registry, unit_source

    specs = [*sheet_specs(), *reported_sheets(db), *county_sheets(lambda: figure_registry(db), unit_source()),
             decision_sheet(db)]
    village = db.meta("village_code")
    if village is not None and receiving:  # a village install takes the township's package down: its rules, schemes, results
        from townapp.county.downward import issued_sheets
        specs += issued_sheets(db, village)
    return specs

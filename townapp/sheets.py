"""Every module's sheet specs for the exchange, in import order.

A composition root like ``townapp/schema.py``: it may import every module;
``townapp.exchange`` never does — it is handed this list.
"""

from __future__ import annotations

from townapp.archives.sheets import sheet_specs as archive_sheets
from townapp.exchange.spec import SheetSpec
from townapp.grids.sheets import sheet_specs as grid_sheets
from townapp.registry.sheets import sheet_specs as registry_sheets


def all_sheet_specs() -> list[SheetSpec]:
    """Specs in the order their sheets are imported (a row only refers to sheets before it)."""
    return [*registry_sheets(), *archive_sheets(), *grid_sheets()]

"""Every module's sheet specs for the exchange, in import order.

A composition root like ``townapp/schema.py``: the modules register their
sheets in ``townapp/modules.py``; ``townapp.exchange`` never imports either —
cli.py and the GUI hand it this list.
"""

from __future__ import annotations

from townapp.exchange.spec import SheetSpec
from townapp.modules import sheet_specs, sheets_imported_elsewhere


def all_sheet_specs() -> list[SheetSpec]:
    """Specs in the order their sheets are imported (a row only refers to sheets before it)."""
    return sheet_specs()


def elsewhere_sheet_specs() -> list[tuple[SheetSpec, str]]:
    """Sheets the exchange's import recognises and sends to their module's page (积分记录 …)."""
    return sheets_imported_elsewhere()

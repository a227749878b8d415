"""What the importer says about one cell, so a test can hold a dialog's or service's message against it."""

from __future__ import annotations

from townapp.exchange.normalize import CellError, filled_cell_normaliser
from townapp.sheets import all_sheet_specs


def import_message(sheet_key: str, column_key: str, value: str) -> str:
    """The import report's message for ``value`` in that sheet's column (AssertionError if it is accepted)."""
    spec = next(s for s in all_sheet_specs() if s.key == sheet_key)
    try:
        filled_cell_normaliser(spec.column(column_key))(value)
    except CellError as exc:
        assert exc.code == "too_long", exc.message
        return exc.message
    raise AssertionError(f"the import accepts {len(value)} characters in {spec.title}/{column_key}")

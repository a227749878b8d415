"""One bad record sent both ways — through a service, as its dialog does, and in an imported workbook.

The modules' tests use it to show a rule exists once: the same input gets the same Chinese message.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.exchange.conftest import write_xlsx
from townapp.core.actor import Actor
from townapp.core.errors import ValidationFailed
from townapp.db import Database
from townapp.exchange.pipeline import run_import
from townapp.sheets import all_sheet_specs


def both_ways(db: Database, actor: Actor, tmp_path: Path, save: Callable[[], object],
              sheet: str, rows: list[list[object]]) -> tuple[list[str], list[str]]:
    """The error messages of ``save`` (it must refuse) and of importing ``rows`` as ``sheet`` (rejected)."""
    with pytest.raises(ValidationFailed) as caught:
        save()
    saved = [p.message for p in caught.value.problems if p.severity == "error"]
    report = run_import(db, write_xlsx(tmp_path / f"{sheet}.xlsx", {sheet: rows}), all_sheet_specs(), actor=actor)
    assert report.status == "rejected"
    return saved, [e.message for e in report.errors]

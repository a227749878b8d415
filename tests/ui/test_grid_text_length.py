"""The grid dialog shows an over-long 四至范围 at the field, in the grid sheet's words (issue 17)."""

from __future__ import annotations

from townapp.core.actor import ROLE_TOWNSHIP, Actor
from townapp.db import Database
from townapp.grids.service import GridService
from townapp.registry.service import RegistryService
from townapp.ui.forms.grids import GridDialog

from ..grids.conftest import make_village
from ..text_limits import import_message


def test_an_over_long_scope_is_shown_under_the_scope_field(app, db: Database, registry: RegistryService,  # noqa: ANN001
                                                           qtbot) -> None:  # noqa: ANN001
    """GIVEN the new-grid dialog with a 501-character 四至范围 WHEN 保存 is pressed
    THEN the dialog stays open and the 四至范围 field says what the import says; nothing else is flagged."""
    village = make_village(registry)
    dialog = GridDialog(GridService(db, Actor("综治办小王", ROLE_TOWNSHIP)), village.id)
    qtbot.addWidget(dialog)
    dialog.code.setText("WG09")
    dialog.name.setText("东张村第九网格")
    scope = "东" * 501
    dialog.scope.setText(scope)
    dialog.save()
    qtbot.waitUntil(lambda: bool(dialog.errors["scope"].text()), timeout=5000)
    assert import_message("grid", "scope", scope) in dialog.errors["scope"].text()
    assert not dialog.errors["general"].text() and not dialog.errors["name"].text()
    assert dialog.saved_id is None

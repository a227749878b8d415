"""A grid's 网格名称 and 四至范围 are held to their columns by the grid rule, in the grid sheet's words
(issue 17: GridService stored names of 65 and 101 characters and a 四至范围 of 501 that the import refuses)."""

from __future__ import annotations

import pytest

from tests.grids.conftest import START, GridVillage
from tests.text_limits import import_message
from townapp.core.errors import ValidationFailed
from townapp.grids.dto import GridInput
from townapp.grids.service import GridService


@pytest.mark.parametrize(("name", "scope", "field"), [
    ("网" * 65, None, "name"), ("网" * 101, None, "name"), ("一网格", "东" * 401, "scope"),
    ("一网格", "东" * 501, "scope")], ids=["name65", "name101", "scope401", "scope501"])
def test_an_over_long_grid_field_is_refused_as_the_import_refuses_it(
        grids: GridService, village: GridVillage, name: str, scope: str | None, field: str) -> None:
    """GIVEN the grid dialog WHEN a grid is saved with a name over 64 or a 四至范围 over 400 characters
    THEN the service refuses it at that field with the 网格 sheet's message, and no grid is stored."""
    before = len(grids.tree(village.id))
    with pytest.raises(ValidationFailed) as caught:
        grids.save_grid(GridInput(village.id, "网格", "WG09", name, scope=scope, changed_on=START))
    value = name if field == "name" else scope
    assert [(p.field, p.message) for p in caught.value.problems] == [(field, import_message("grid", field, value))]
    assert len(grids.tree(village.id)) == before


def test_the_longest_values_the_import_takes_are_kept(grids: GridService, village: GridVillage) -> None:
    # GIVEN a 64-character name and a 400-character 四至范围 WHEN saved THEN the grid is stored with them
    grid_id = grids.save_grid(GridInput(village.id, "网格", "WG09", "网" * 64, scope="东" * 400, changed_on=START))
    node = next(n for n in grids.tree(village.id) if n.id == grid_id)
    assert (len(node.name), len(node.scope or "")) == (64, 400)

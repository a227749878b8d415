"""The people list over a whole county (about 460,000 people) pages instead of loading everything."""

from __future__ import annotations

from pathlib import Path

import pytest

from townapp.core.actor import DEMO_ACTOR
from townapp.db import open_database
from townapp.ui.app import open_main_window


@pytest.fixture
def county_db(built_demo) -> Path:  # noqa: ANN001
    """The county demo (seed 1), people only: the people page needs nothing else."""
    return built_demo("county", seed=1, modules=("registry",))


@pytest.mark.slow
def test_county_people_page_scrolls_and_searches_without_loading_all_rows(app, county_db: Path, qtbot) -> None:  # noqa: ANN001
    # GIVEN the county demo database open on the people page
    db = open_database(county_db)
    window = open_main_window(db, DEMO_ACTOR)
    qtbot.addWidget(window)
    page = window.open_page("人员/党员")
    total = page.model.rowCount()
    assert total > 400_000
    # WHEN the user scrolls to the bottom, back to the top, and searches by surname, initials and ID tail
    page.view.scrollToBottom()
    qtbot.wait(20)
    page.view.scrollToTop()
    qtbot.wait(20)
    last = page.model.record_at(total - 1)
    for text in ("王", "zs", "1234"):
        page.search.setText(text)
        page.reload()
        qtbot.wait(20)
        assert 0 < page.model.rowCount() < total
    # THEN rows were read page by page: a handful of pages, never the whole table
    assert last is not None
    assert page.model.rows_fetched <= 12 * page.model.PAGE_SIZE
    window.close()
    db.dispose()

"""积分超市 story: goods out of stock are listed but cannot be picked, and a refusal names its real cause."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

from townapp.core.actor import DEMO_ACTOR
from townapp.db import Database
from townapp.points.dto import StoreItemInput
from townapp.points.service import PointsService
from townapp.ui.app import open_main_window

from ..points.conftest import make_village
from ..points.test_store import earn


def test_an_item_out_of_stock_is_listed_but_not_pickable(app, db: Database, qtbot) -> None:  # noqa: ANN001
    """库存为0 shows in the list, greyed; the refusal for too many towels says how many are left."""
    # GIVEN 李秀英 with 3 redeemable points, towels at 1 point (2 left) and soap at 1 point (none left)
    village = make_village(db)
    points = PointsService(db)
    earn(points, village, "李秀英", 3)
    points.save_item(StoreItemInput("毛巾", "1", 2))
    soap = points.save_item(StoreItemInput("香皂", "1", 0))
    main = open_main_window(db, DEMO_ACTOR)
    qtbot.addWidget(main)
    page = main.open_page("积分超市")
    page.refresh()
    # THEN the soap is in the goods list, marked 库存为0, greyed and not the one chosen
    index = page.item.findData(soap)
    assert index >= 0 and "库存为0" in page.item.itemText(index)
    assert not page.item.model().item(index).isEnabled()
    assert page.item.currentData() != soap and page.item.currentText().startswith("毛巾")
    # WHEN the clerk finds 李秀英 and asks for three towels
    page.scan.setText("李秀英")
    page.find_member()
    page.quantity.setValue(3)
    qtbot.mouseClick(page.findChild(QPushButton, "redeem"), Qt.MouseButton.LeftButton)
    # THEN the message says the stock is short, how many are left, and blames nobody else
    qtbot.waitUntil(lambda: page.error.isVisible(), timeout=5000)
    assert "库存不足" in page.error.text() and "仅剩 2 件" in page.error.text()
    assert "他人" not in page.error.text() and "价格" not in page.error.text()
    page.grab().save("/tmp/h21lists/store.png")
    main.close()

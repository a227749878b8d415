"""积分超市 refusals name the real cause, checked in turn: a price changed since the clerk saw it, stock
short (with how many are left), then a balance too low; never a list of guesses."""

from __future__ import annotations

import pytest

from townapp.core.errors import DomainError
from townapp.points.dto import StoreItemInput
from townapp.points.service import PointsService

from .conftest import Village
from .test_store import earn


def test_stock_price_and_balance_each_named_as_the_cause(points: PointsService, village: Village) -> None:
    # GIVEN a member with 3 redeemable points, a towel at 2 points with 1 left and soap at 1 point with none
    member = earn(points, village, "李秀英", 3)
    towel = points.save_item(StoreItemInput("毛巾", "2", 1))
    soap = points.save_item(StoreItemInput("香皂", "1", 0))
    # WHEN soap is asked for THEN the refusal says the stock is 0, and nothing about prices or other clerks
    with pytest.raises(DomainError) as out:
        points.redeem(member, soap, 1, expected_points=10)
    assert "库存不足" in out.value.message and "库存为0" in out.value.message
    assert "价格" not in out.value.message and "他人" not in out.value.message
    # WHEN two towels are asked for THEN it says how many are left
    with pytest.raises(DomainError, match="仅剩 1 件"):
        points.redeem(member, towel, 2, expected_points=20)
    # WHEN the towel's price was raised to 5 after the clerk's page showed 2
    points.save_item(StoreItemInput("毛巾", "5", 1, id=towel))
    with pytest.raises(DomainError) as out:
        points.redeem(member, towel, 1, expected_points=20)
    # THEN the price change is the cause given, with both prices
    assert "已调整为 5 分" in out.value.message and "页面上是 2 分" in out.value.message
    # WHEN the clerk redeems at the new price THEN the balance is the cause: 3 points, 5 needed
    with pytest.raises(DomainError) as out:
        points.redeem(member, towel, 1, expected_points=50)
    assert "余额为 3 分" in out.value.message and "需要 5 分" in out.value.message
    assert "库存" not in out.value.message
    # AND nothing was taken
    assert points.balance(member) == 30 and {i.name: i.stock for i in points.items()} == {"毛巾": 1, "香皂": 0}

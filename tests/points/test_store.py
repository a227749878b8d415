"""积分超市: redemptions and cancellations keep balance and stock exact; the last item goes to exactly one of
two redemptions made at the same moment from two connections to the same database file."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select

from townapp.core.errors import DomainError, ValidationFailed
from townapp.db import Database, open_database
from townapp.points import models as p
from townapp.points.dto import EntryInput, StoreItemInput
from townapp.points.service import PointsService

from .conftest import YEAR, Village, make_effective


def earn(points: PointsService, village: Village, name: str, times: int) -> int:
    """``times`` effective 志愿服务 records (1 point each, ≤2 a month) for a member; returns the member id."""
    member = village.members[name]
    ids = [points.add_records(EntryInput("ZY01", dt.date(YEAR, 1 + i // 2, 1 + i % 2), [member]))[0] for i in range(times)]
    make_effective(points, village, ids, dt.date(YEAR, 10, 1))
    return member


def ledger_sum(db: Database, member: int) -> int:
    with db.reader() as s:
        return s.scalar(select(func.coalesce(func.sum(p.PointLedger.amount_tenths), 0))
                        .where(p.PointLedger.party_member_id == member))


def test_redemption_and_cancellation_keep_balance_and_stock_exact(points: PointsService, village: Village,
                                                                  db: Database) -> None:
    # GIVEN a member with 8 redeemable points and goods at 2.5 points with 10 in stock
    member = earn(points, village, "李秀英", 8)
    assert points.balance(member) == 80
    item = points.save_item(StoreItemInput("毛巾", "2.5", 10, "村党群服务中心"))
    # WHEN two towels are redeemed
    first = points.redeem(member, item, 2)
    # THEN exactly 5 points and 2 towels are taken, and the receipt number is readable
    assert (first.points, first.status, first.balance_after) == (50, "待领取", 30)
    assert first.number.startswith("DH") and points.balance(member) == 30
    assert points.items()[0].stock == 8
    # WHEN it is cancelled THEN exactly 5 points and 2 towels come back
    with pytest.raises(ValidationFailed):
        points.cancel_redemption(first.id, "")
    points.cancel_redemption(first.id, "群众改换其他商品")
    assert points.balance(member) == 80 and points.items()[0].stock == 10
    with pytest.raises(DomainError, match="只有待领取"):
        points.cancel_redemption(first.id, "再次取消")
    # WHEN more is asked than the balance allows THEN nothing moves
    with pytest.raises(DomainError, match="余额不足"):
        points.redeem(member, item, 4)
    with pytest.raises(DomainError, match="库存不足"):
        points.redeem(member, item, 11)
    assert points.balance(member) == 80 and points.items()[0].stock == 10
    # AND a picked-up redemption cannot be cancelled
    second = points.redeem(member, item, 1)
    points.pick_up(second.id)
    with pytest.raises(DomainError):
        points.cancel_redemption(second.id, "晚了")
    # AND the ledger adds up to the balance, and the balance is kept apart from the annual score
    assert ledger_sum(db, member) == points.balance(member) == 55
    assert points.member_totals(member, YEAR).total == 400 + 80
    assert [x.kind for x in points.card(member, YEAR).ledger][:4] == ["兑换", "取消退回", "兑换", "积分转入"]


def test_two_concurrent_redemptions_of_the_last_item_exactly_one_succeeds(points: PointsService, village: Village,
                                                                          db: Database) -> None:
    # GIVEN two members with enough points and one rice bag left
    a = earn(points, village, "张建国", 6)
    b = earn(points, village, "李秀英", 6)
    item = points.save_item(StoreItemInput("大米（10kg）", "5", 1))
    # AND two separate connections (engines) to the same database file, as two laptops' windows would have
    first, second = open_database(db.location), open_database(db.location)
    barrier = threading.Barrier(2)
    results: dict[int, object] = {}

    def redeem(database: Database, member: int) -> None:
        service = PointsService(database)
        barrier.wait()
        try:
            results[member] = service.redeem(member, item)
        except DomainError as exc:
            results[member] = exc

    try:
        for _ in range(5):  # several rounds: a lucky interleaving must not hide a race
            points.restock(item, 1 - points.items()[0].stock)
            results.clear()
            threads = [threading.Thread(target=redeem, args=(first, a)), threading.Thread(target=redeem, args=(second, b))]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=30)
            # THEN exactly one redemption succeeded and the other was told the stock ran out
            won = [m for m, r in results.items() if not isinstance(r, Exception)]
            lost = [r for r in results.values() if isinstance(r, Exception)]
            assert len(won) == 1 and len(lost) == 1
            assert "库存不足" in lost[0].message
            assert points.items()[0].stock == 0
            # the winner gives it back so the next round starts equal
            points.cancel_redemption(results[won[0]].id, "测试下一轮")
        # AND balances and stock are exact after all rounds: everything cancelled, nothing lost or doubled
        assert points.balance(a) == 60 and points.balance(b) == 60
        assert ledger_sum(db, a) == 60 and ledger_sum(db, b) == 60
    finally:
        first.dispose()
        second.dispose()


def test_concurrent_redemptions_never_overdraw_a_balance(points: PointsService, village: Village, db: Database) -> None:
    # GIVEN one member with 6 points and two different goods at 5 points each
    member = earn(points, village, "赵敏", 6)
    soap = points.save_item(StoreItemInput("香皂", "5", 10))
    oil = points.save_item(StoreItemInput("食用油", "5", 10))
    first, second = open_database(db.location), open_database(db.location)
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def redeem(database: Database, item: int) -> None:
        barrier.wait()
        try:
            outcomes.append(PointsService(database).redeem(member, item))
        except DomainError as exc:
            outcomes.append(exc)

    try:
        threads = [threading.Thread(target=redeem, args=(first, soap)), threading.Thread(target=redeem, args=(second, oil))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
    finally:
        first.dispose()
        second.dispose()
    # THEN one succeeds, the other is refused for the balance, and the refused item's stock is untouched
    assert sum(not isinstance(o, Exception) for o in outcomes) == 1
    assert points.balance(member) == 10
    assert sorted(i.stock for i in points.items()) == [9, 10]


def test_goods_are_maintained_by_the_township(points: PointsService) -> None:
    with pytest.raises(ValidationFailed) as caught:
        points.save_item(StoreItemInput("", "1.25", -1))
    assert len(caught.value.problems) == 3
    item = points.save_item(StoreItemInput("保温杯", "15", 2))
    assert points.restock(item, 3) == 5
    with pytest.raises(DomainError, match="0以下"):
        points.restock(item, -6)
    with pytest.raises(ValidationFailed, match="已有名为"):
        points.save_item(StoreItemInput("保温杯", "10", 1))

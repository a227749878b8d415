"""Subsidy arithmetic against hand-computed cases: every band edge, deductions, the phone allowance, rounding.

The scheme below is written out in the test so each expected 分 can be checked
by hand: base 333.33 元 (an awkward number on purpose), 微网格员 200.00 元,
网格辅助员 100.10 元; bands ≥90 ×1.00, ≥80 ×0.85, ≥60 ×0.60, below ×0;
phone allowance 50.00 元 only from 60 分 up.
"""

from __future__ import annotations

import pytest

from townapp.core.errors import DomainError
from townapp.grids.scheme import current_scheme, format_points, parse_points, scheme_from_dict
from townapp.grids.subsidy import check_scores, competition_ranks, subsidy_for, total_tenths

SCHEME = scheme_from_dict({
    "name": "测试方案", "version": "t",
    "items": [{"key": "a", "label": "走访入户", "max": "60"}, {"key": "b", "label": "事件上报与处置", "max": "40"}],
    "assessed_roles": ["网格员", "微网格员", "网格辅助员"],
    "subsidy": {"base_fen": 33333, "base_fen_by_role": {"微网格员": 20000, "网格辅助员": 10010},
                "bands": [{"min_score": "90", "factor": "1.00"}, {"min_score": "80", "factor": "0.85"},
                          {"min_score": "60", "factor": "0.60"}, {"min_score": "0", "factor": "0"}],
                "phone_allowance_fen": 5000, "phone_allowance_min_score": "60"},
    "best_member": {"count": 1, "scope": "township", "candidates_from_top": 3},
})

# (a, b, deduction, role) → (total in tenths, performance 分, allowance 分, subsidy 分), each worked out by hand
CASES = [
    ("60", "40", "0", "网格员", 1000, 33333, 5000, 38333),      # full marks
    ("50", "40", "0", "网格员", 900, 33333, 5000, 38333),       # 90.0 is the lower edge of ×1.00
    ("50", "39.9", "0", "网格员", 899, 28333, 5000, 33333),     # 89.9: 33333 × 0.85 = 28333.05 → 28333
    ("40", "40", "0", "网格员", 800, 28333, 5000, 33333),       # 80.0 edge of ×0.85
    ("40", "39.9", "0", "网格员", 799, 20000, 5000, 25000),     # 79.9: 33333 × 0.6 = 19999.8 → 20000
    ("30", "30", "0", "网格员", 600, 20000, 5000, 25000),       # 60.0 edge of ×0.60, allowance starts here
    ("30", "29.9", "0", "网格员", 599, 0, 0, 0),                # 59.9: nothing, not even the allowance
    ("60", "40", "10.1", "网格员", 899, 28333, 5000, 33333),    # a deduction moves 100 down to 89.9
    ("55", "40", "5", "网格员", 900, 33333, 5000, 38333),       # 95 − 5 lands exactly on the edge
    ("10", "10", "30", "网格员", 0, 0, 0, 0),                   # deductions never push below 0
    ("50", "40", "0", "微网格员", 900, 20000, 5000, 25000),     # the role's own base
    ("40", "40", "0", "微网格员", 800, 17000, 5000, 22000),     # 20000 × 0.85
    ("45", "40", "0", "网格辅助员", 850, 8509, 5000, 13509),    # 10010 × 0.85 = 8508.5 → half up → 8509
]


@pytest.mark.parametrize(("a", "b", "deduction", "role", "total", "performance", "allowance", "subsidy"), CASES)
def test_subsidy_equals_the_hand_computed_fen(a: str, b: str, deduction: str, role: str, total: int,
                                              performance: int, allowance: int, subsidy: int) -> None:
    # GIVEN item scores and a deduction as a clerk types them
    scores = {"a": parse_points(a), "b": parse_points(b)}
    # WHEN the total and the subsidy are computed
    computed_total = total_tenths(SCHEME, scores, parse_points(deduction) or 0)
    line = subsidy_for(SCHEME, computed_total, role)
    # THEN every figure equals the hand computation to the 分
    assert computed_total == total
    assert (line.performance_fen, line.allowance_fen, line.subsidy_fen) == (performance, allowance, subsidy)


def test_a_row_with_an_empty_item_has_no_total_yet() -> None:
    assert total_tenths(SCHEME, {"a": 500, "b": None}, 0) is None


def test_scores_outside_the_item_maxima_and_reasonless_deductions_are_refused() -> None:
    problems = check_scores(SCHEME, {"a": 601, "b": 400}, 20, None)
    messages = [p.message for p in problems]
    assert "走访入户应在 0 至 60 分之间" in messages
    assert "有扣分时必须填写扣分原因" in messages
    assert not check_scores(SCHEME, {"a": 600, "b": 0}, 20, "未按时上报事件")


@pytest.mark.parametrize(("text", "tenths"), [("87.5", 875), ("９０", 900), (90, 900), (87.5, 875), ("90.0", 900),
                                              ("", None), (None, None), ("18.5分", 185)])
def test_points_are_read_exactly_as_tenths(text: object, tenths: int | None) -> None:
    assert parse_points(text) == tenths


@pytest.mark.parametrize("text", ["87.55", "-1", "九十", "1e2"])
def test_points_with_two_decimals_or_words_are_refused(text: str) -> None:
    with pytest.raises(DomainError):
        parse_points(text)


def test_points_print_without_a_needless_decimal() -> None:
    assert (format_points(900), format_points(875), format_points(None)) == ("90", "87.5", "")


def test_equal_totals_share_a_rank_and_empty_rows_are_not_ranked() -> None:
    assert competition_ranks({1: 900, 2: 950, 3: 900, 4: None, 5: 800}) == {2: 1, 1: 2, 3: 2, 5: 4}


def test_the_shipped_scheme_pays_a_50_yuan_phone_allowance_and_covers_the_five_items() -> None:
    scheme = current_scheme()
    assert scheme.phone_allowance_fen == 5000
    assert [i.label for i in scheme.items] == ["信息采集", "走访入户", "事件上报与处置", "政策宣传", "矛盾调解"]
    assert scheme.max_total == 1000
    assert scheme.bands[-1].min_tenths == 0


def test_a_scheme_without_a_zero_band_is_refused() -> None:
    broken = dict(SCHEME.raw, subsidy=dict(SCHEME.raw["subsidy"], bands=[{"min_score": "60", "factor": "1"}]))
    with pytest.raises(DomainError, match="最低分 0"):
        scheme_from_dict(broken)

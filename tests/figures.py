"""Figures the safety tests measure (issues 9 and 16), printed at the end of the test run.

Tests call ``record``; tests/conftest.py re-exports ``pytest_terminal_summary``
so ``pytest`` prints them under 安全指标 whatever subset of tests ran.
"""

from __future__ import annotations

from typing import Any

FIGURES: dict[str, str] = {}


def record(name: str, value: Any) -> None:
    FIGURES[name] = str(value)


BACKENDS: dict[str, float] = {}
BACKEND_LABELS = {"ran": "通过", "failed": "失败", "sqlite_only": "只适用于 SQLite、已跳过",
                  "no_server": "没有服务器、已跳过"}


def record_backends(outcome: str, amount: float = 1) -> None:
    BACKENDS[outcome] = BACKENDS.get(outcome, 0) + amount


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if BACKENDS:
        terminalreporter.section("PostgreSQL")
        counts = {k: v for k, v in BACKENDS.items() if k != "seconds"}
        terminalreporter.write_line("；".join(f"{BACKEND_LABELS[k]} {int(v)} 个" for k, v in sorted(counts.items()))
                                    + f"；PostgreSQL 上的测试共用时 {BACKENDS.get('seconds', 0):.0f} 秒")
    if not FIGURES:
        return
    terminalreporter.section("安全指标")
    for name in sorted(FIGURES):
        terminalreporter.write_line(f"{name}: {FIGURES[name]}")

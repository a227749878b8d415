"""Figures the safety tests measure (issues 9 and 16), printed at the end of the test run.

Tests call ``record``; tests/conftest.py re-exports ``pytest_terminal_summary``
so ``pytest`` prints them under 安全指标 whatever subset of tests ran.
"""

from __future__ import annotations

from typing import Any

FIGURES: dict[str, str] = {}


def record(name: str, value: Any) -> None:
    FIGURES[name] = str(value)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not FIGURES:
        return
    terminalreporter.section("安全指标")
    for name in sorted(FIGURES):
        terminalreporter.write_line(f"{name}: {FIGURES[name]}")

"""The date field of the party member form: a month stays a month (入党时间 1978.02), never an invented day."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtWidgets import QApplication

from townapp.core.dates import DateParseError, MonthDate
from townapp.ui.forms.archives import from_text, to_text
from townapp.ui.widgets.fields import DateField


def test_a_month_is_shown_and_read_back_as_a_month(app: QApplication, qtbot) -> None:  # noqa: ANN001
    """GIVEN a party member whose 入党日期 is stored as the month 1978.02
    WHEN the form shows it THEN it reads 1978.02 (not 1978-02-01), and saved unchanged it is still the month;
    a typed day is a full date; a field that needs the day (a meeting's date) still asks for it."""
    field = DateField(month_precision=True)
    qtbot.addWidget(field)
    field.set_date(MonthDate(1978, 2))
    assert field.text() == "1978.02" and field.date() == MonthDate(1978, 2)
    field.setText("1978年2月5日")
    assert field.date() == dt.date(1978, 2, 5) and field.date().__class__ is dt.date
    field.set_date(dt.date(1978, 2, 5))
    assert field.text() == "1978-02-05"
    strict = DateField()
    qtbot.addWidget(strict)
    strict.setText("1978.02")
    with pytest.raises(DateParseError):
        strict.date()
    assert strict.problem("held_on") is not None


def test_archive_grids_show_and_read_a_month_as_a_month() -> None:
    """GIVEN 两委班子 任职日期 stored as the month 2021.03 WHEN the archive grid shows it THEN it reads 2021.03;
    typed back into a month column it is the month; a column that needs the day (会议日期) refuses it."""
    assert to_text("month", MonthDate(2021, 3)) == "2021.03" and to_text("date", dt.date(2021, 3, 5)) == "2021-03-05"
    assert from_text("month", "2021.03", "任职日期") == MonthDate(2021, 3)
    assert from_text("month", "2021-03-05", "任职日期") == dt.date(2021, 3, 5)
    with pytest.raises(ValueError):
        from_text("date", "2021.03", "会议日期")

"""Role-matrix cases of the year close (townapp/yearend) and the points' part of it."""

from __future__ import annotations

import datetime as dt

from tests.accounts.service_matrix import Case

# the small demo's last year may be closed already (the demo closes it): a second close is a data rule's refusal
CASES: dict[str, Case | list[Case]] = {
    "YearEndService.checklist": Case("open", lambda s, w, side: s.checklist(2025) is not None),
    "YearEndService.blocking": Case("open", lambda s, w, side: s.blocking(2025) is not None),
    "YearEndService.closed": Case("open", lambda s, w, side: s.closed(2025) or True),
    "YearEndService.closes": Case("open", lambda s, w, side: s.closes() is not None),
    "YearEndService.close": Case("township", lambda s, w, side: s.close(2024, on=dt.date(2025, 2, 1)) is not None),
    "PointsService.close_year": Case("township", lambda s, w, side: s.close_year(2024, on=dt.date(2025, 2, 1))
                                     is not None),
    "PointsService.year_closed": Case("open", lambda s, w, side: s.year_closed(2025) or True),
    "PointsService.open_records": Case("open", lambda s, w, side: s.open_records(2026) is not None),
}

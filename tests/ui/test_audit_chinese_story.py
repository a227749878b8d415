"""The audit viewer in Chinese: tables, fields and values as a township clerk reads them."""

from __future__ import annotations

import re

ENGLISH_WORD = re.compile(r"[A-Za-z_]{4,}")


def test_the_audit_log_reads_in_chinese_with_names_not_ids(open_demo_window, qtbot) -> None:  # noqa: ANN001
    """GIVEN the demo township's audit log (points, evaluations, grids, follow-up, year end)
    WHEN the administrator opens 审计日志
    THEN the 对象 filter, the 对象 and 字段 columns and every value are Chinese text: no English word,
    no JSON, a 党员 by name, points as points."""
    main = open_demo_window("small", seed=11)
    page = main.open_page("审计日志")
    entities = [page.entity.itemText(i) for i in range(page.entity.count())]
    assert len(entities) > 10 and not [e for e in entities if ENGLISH_WORD.search(e)]
    model = page.model
    columns = [c.key for c in page.COLUMNS]
    english, json_like, grades = [], [], []
    for row in range(model.rowCount()):
        cells = {key: str(model.index(row, c).data() or "") for c, key in enumerate(columns)}
        for key in ("entity", "field", "old", "new"):
            english += ENGLISH_WORD.findall(cells[key])
            if cells[key].startswith(("{", "[")):
                json_like.append(cells[key])
        if cells["entity"] == "党员积分年度等次":
            grades.append(cells["new"])
    assert english == [] and json_like == []
    assert grades and all(re.search(r"党员：[\u4e00-\u9fff]{2,}；", g) and re.search(r"年度总分：[\d.]+分", g)
                          for g in grades)

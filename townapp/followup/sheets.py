"""整改跟踪 as workbooks: the 头雁 建议调整名单 of a round and the follow-up list, for the 党委 meeting and the county.

Both go through ``write_table_xlsx`` (cells written safely, codes as text); the
rows come from the service, so a clerk's export holds their own village only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from townapp.core.errors import DomainError
from townapp.followup.dto import ItemRow
from townapp.followup.service import FollowUpService
from townapp.outputs.table_xlsx import write_table_xlsx

ADJUST_HEADERS = ("序号", "村/社区", "村党组织书记", "头雁指数得分", "评价等级", "列入原因", "跟踪状态")
ITEM_HEADERS = ("序号", "村/社区", "年度", "类别", "对象", "事项", "来源", "整改期限", "状态", "问题（未销号/共）",
                "是否逾期", "办结日期")


def _date(value: dt.date | None) -> str:
    return "" if value is None else f"{value:%Y-%m-%d}"


def write_adjust_list(service: FollowUpService, round_id: int, out: Path | str) -> Path:
    """The round's 建议调整名单 (头雁指数 below the line or a negative item touched)."""
    rounds = {r.id: r for r in service.adjust_rounds()}
    if round_id not in rounds:
        raise DomainError("这一轮评定没有建议调整名单")
    rows = service.adjust_list(round_id)
    table = [[str(n), r.village, r.name, "" if r.measure is None else f"{r.measure.normalize():f}", r.level,
              r.reasons or "低于调整线", r.follow_up] for n, r in enumerate(rows, start=1)]
    state = "已定级" if rounds[round_id].final else "未定级（名单随评分变化）"
    return write_table_xlsx(out, sheet="建议调整名单", title=f"{rounds[round_id].name}建议调整名单",
                            subtitle=f"共 {len(rows)} 人　{state}", headers=ADJUST_HEADERS, rows=table,
                            widths=(6, 14, 12, 12, 10, 36, 12), wrap=True)


def write_items(rows: Sequence[ItemRow], out: Path | str, *, title: str = "整改跟踪台账", as_of: dt.date | None = None
                ) -> Path:
    """The follow-up list as shown (filters applied by the caller)."""
    day = as_of or dt.date.today()
    table = [[str(n), r.village, str(r.year), r.kind, r.subject, r.title, r.source, _date(r.deadline), r.status,
              f"{r.problems_open}/{r.problems_total}" if r.problems_total else "", "逾期" if r.overdue else "",
              _date(r.closed_on)] for n, r in enumerate(rows, start=1)]
    return write_table_xlsx(out, sheet="整改跟踪", title=title, subtitle=f"截至{day:%Y年%m月%d日}，共 {len(rows)} 项",
                            headers=ITEM_HEADERS, rows=table, widths=(6, 12, 7, 9, 14, 36, 28, 12, 9, 10, 8, 12),
                            wrap=True)

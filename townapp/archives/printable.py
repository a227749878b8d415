"""The printable 一村一档 and the 报酬发放表 (PDF and xlsx), assembled from the service's DTOs.

This module turns figures into text and hands ``townapp.outputs`` plain
tables; outputs never reach back into the archives.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side

from townapp.archives.dto import PayTable
from townapp.archives.service import ArchiveService
from townapp.archives.vocab import clause_texts, fields
from townapp.core.atomic import atomic_output
from townapp.core.dates import show_date
from townapp.core.money import format_yuan, wan_yuan
from townapp.exchange.writer import save_fitted, set_cell
from townapp.outputs.archive_pdf import TableDocument, TableSection, write_table_pdf
from townapp.outputs.charts import figure_png, series_chart

_PAY_COLUMNS = ("序号", "姓名", "职务", "任职月数", "考核等级", "基本报酬（元）", "考核报酬（元）", "星级奖励（元）",
                "晋位及连续奖励（元）", "创建奖励（元）", "合计（元）", "备注", "领取人签名")
_PAY_AMOUNTS = ("basic", "assessment", "star", "bonus", "creation", "total")


def _d(value: dt.date | None) -> str:
    """2021-03-15, or 2021年03月 for a date known only to the month."""
    return show_date(value)


def _value(kind: str, value: object) -> str:
    if value is None or value == "":
        return ""
    if kind == "money":
        return format_yuan(value)  # type: ignore[arg-type]
    if kind == "bool":
        return "是" if value else "否"
    return str(value)


def _creation_standards(service: ArchiveService) -> dict[str, list[str]]:
    """规范·示范·典范 standards as the creation scheme states them (one number, in one place: the scheme)."""
    from townapp.evaluations.service import EvaluationService  # the evaluations are read, not wired in here

    return EvaluationService(service.db, service.actor).level_standards("village_creation")


def _by_year(heading: str, columns: list, years: list[int], year_rows: dict[int, dict]) -> TableSection:
    """Figures with one column per year (amounts stay on one line however many years there are)."""
    shown = years[-6:]
    return TableSection(heading, ("项目", *[f"{y}年" for y in shown]),
                        [[f.label, *[_value(f.kind, year_rows[y].get(f.key)) for y in shown]] for f in columns],
                        (1.6, *[1.0] * len(shown)), (False, *[True] * len(shown)),
                        note="表中为最近六年数据。" if len(years) > 6 else "")


def income_chart(service: ArchiveService, village_id: int, figure=None):  # noqa: ANN001, ANN201
    """集体收入与债务 by year (万元) as a matplotlib Figure (redrawn into ``figure`` when given)."""
    points = service.chart_points(village_id)
    years = [p.year for p in points]
    return series_chart(
        years,
        bars={"总收入": [wan_yuan(p.total_income) for p in points],
              "经营性收入": [wan_yuan(p.business_income) for p in points]},
        lines={"年末债务": [wan_yuan(p.debt_closing) for p in points]},
        title="村集体收入与债务", unit="万元", figure=figure)


def archive_document(service: ArchiveService, village_id: int, today: dt.date | None = None) -> TableDocument:
    today = today or dt.date.today()
    code, name = service.village_name(village_id)
    years = service.years(village_id)
    latest = years[-1] if years else today.year
    profile = service.profile(village_id, latest)
    sections: list[TableSection] = []

    counts = profile.party
    prof_rows = [[f.label, _value(f.kind, profile.values.get(f.key))] for f in fields("profile")]
    prof_rows += [["党员总数", str(counts.total)], ["其中正式党员", str(counts.formal)],
                  ["预备党员", str(counts.probationary)], ["女党员", str(counts.female)],
                  ["35岁及以下党员", str(counts.young)], ["流动党员", str(counts.mobile)]]
    sections.append(TableSection(f"一、村情概况（{latest}年）", ("项目", "内容"), prof_rows, (1, 2),
                                 note="党员人数取自人员信息登记，不另行填报。"))

    cadres = service.cadres(village_id)
    sections.append(TableSection("二、村“两委”班子", ("姓名", "职务", "一肩挑", "届次", "任职日期", "离任日期"),
                                 [[c.name, c.post, "是" if c.one_shoulder else "", str(c.term_no or ""),
                                   _d(c.started_on), _d(c.ended_on) or "现任"] for c in cadres], (2, 2, 1, 1, 2, 2)))
    sections.append(TableSection("　　换届情况", ("届次", "本届开始", "本届届满", "是否完成"),
                                 [[f"第{t.term_no}届", _d(t.starts_on), _d(t.ends_on), "已完成" if t.completed else "未完成"]
                                  for t in service.terms(village_id)]))
    sections.append(TableSection("　　第一书记", ("姓名", "派出单位", "任期开始", "任期结束"),
                                 [[f.name, f.unit or "", _d(f.started_on), _d(f.ended_on)]
                                  for f in service.first_secretaries(village_id)], (1, 3, 1.3, 1.3)))

    talents = service.talents(village_id)
    sections.append(TableSection("三、人才队伍", ("类别", "姓名", "出生日期", "学历", "培养措施／到岗日期／外出地与行业"),
                                 [[t.kind, t.name, _d(t.birth_date), t.education or "",
                                   t.measures or (f"到岗 {_d(t.arrived_on)}" if t.arrived_on else "")
                                   or "、".join(x for x in (t.workplace, t.industry, f"回引意向：{t.return_intent}"
                                                           if t.return_intent else None, "已回村任职" if t.returned else None) if x)]
                                  for t in talents], (1.2, 1, 1.3, 1, 4)))

    centre = service.centre(village_id)
    sections.append(TableSection("四、党群服务中心", ("地址", "面积（㎡）", "建成年份", "功能室"),
                                 [[centre.address or "", str(centre.area_m2 or ""), str(centre.built_year or ""),
                                   "、".join(centre.rooms)]] if (centre.address or centre.rooms) else [],
                                 (2.5, 1, 1, 4)))

    economy = [f for f in fields("economy")]
    year_rows = {y: service.year(village_id, y).values for y in years}
    sections.append(_by_year("五、村集体经济（元）", economy, years, year_rows))
    coops = [[str(y), c.name, str(c.members or ""), format_yuan(c.income_to_collective)]
             for y in years for c in service.cooperatives(village_id, y)]
    sections.append(TableSection("　　村党组织领办合作社", ("年度", "合作社名称", "成员数", "为集体增收（元）"), coops,
                                 (0.8, 3, 1, 1.5), (False, False, True, True)))
    debt = [f for f in fields("debt") if f.kind == "money"] + list(fields("funding"))
    sections.append(_by_year("六、村级债务与运转经费（元）", debt, years, year_rows))
    plans = [[str(y), year_rows[y].get("debt_causes") or "", year_rows[y].get("debt_plan") or ""] for y in years
             if year_rows[y].get("debt_causes") or year_rows[y].get("debt_plan")]
    sections.append(TableSection("　　债务成因与化解计划", ("年度", "成因", "化解计划"), plans, (0.8, 3, 3)))
    rating = [f for f in fields("rating")]
    level = year_rows[latest].get("creation_level") if years else None
    standards = _creation_standards(service).get(level or "", [])
    sections.append(TableSection("七、创建等级与星级", ("年度", *[f.label for f in rating]),
                                 [[str(y), *[_value(f.kind, year_rows[y].get(f.key)) for f in rating]] for y in years],
                                 (0.8, 1, 1, 1, 1.5),
                                 note=f"{level}村基本标准：" + "；".join(standards) if standards else ""))

    clauses = clause_texts()
    sections.append(TableSection("八、软弱涣散村党组织整顿", ("认定年度", "认定条款", "整顿措施", "包联领导", "验收", "回头看", "状态"),
                                 [[str(x.year), "；".join(f"{c}.{clauses.get(c, '')}" for c in x.clauses),
                                   x.measures or "", x.leader or "",
                                   f"{_d(x.accepted_on)} {x.score if x.score is not None else ''}分 {x.result or ''}"
                                   if x.accepted_on else "", f"{_d(x.review_on)} {x.review_note or ''}".strip(), x.stage]
                                  for x in service.rectifications(village_id)], (0.8, 3, 2.5, 1, 1.6, 1.6, 1)))
    sections.append(TableSection("九、为民办实事公开承诺", ("年度", "承诺事项", "责任人", "时限", "状态", "完成日期"),
                                 [[str(c.year), c.title, c.owner or "", _d(c.deadline), c.status, _d(c.completed_on)]
                                  for c in service.commitments(village_id)], (0.8, 4, 1, 1.3, 1, 1.3)))
    meetings = service.meetings(village_id, latest)
    sections.append(TableSection(f"十、三会一课与主题党日（{latest}年）",
                                 ("日期", "类型", "主题", "主持人", "出席", "请假", "缺席"),
                                 [[_d(x.held_on), x.kind, x.topic, x.host or "", str(x.count("出席")),
                                   str(x.count("请假")), str(x.count("缺席"))] for x in meetings],
                                 (1.3, 1.3, 3.5, 1, 0.6, 0.6, 0.6), (False, False, False, False, True, True, True)))
    attachments = service.attachments(village_id)
    sections.append(TableSection("十一、附件目录", ("序号", "名称", "年度", "大小"),
                                 [[str(i + 1), x.title, str(x.year or ""), f"{max(1, x.size // 1024)} KB"]
                                  for i, x in enumerate(attachments)], (0.6, 4, 1, 1)))
    chart = figure_png(income_chart(service, village_id), dpi=130) if years else None
    return TableDocument(
        title="一村一档", subtitle=f"{name}", chart_png=chart, chart_caption="十二、村集体收入与债务变化（万元）",
        cover_lines=[("村（社区）", name), ("区划代码", code), ("档案年度", f"{years[0]}—{years[-1]}年" if years else "—"),
                     ("党员人数", f"{counts.total}名"), ("打印日期", today.isoformat())],
        sections=sections, footer=f"{name} 一村一档　打印于 {today.isoformat()}")


def write_archive(service: ArchiveService, village_id: int, out: Path | str) -> Path:
    return write_table_pdf(archive_document(service, village_id), out)


def _pay_rows(table: PayTable) -> list[list[str]]:
    rows = [[str(i + 1), x.name, x.post, str(x.months), x.grade, *[format_yuan(getattr(x, k)) for k in _PAY_AMOUNTS],
             x.remark, ""] for i, x in enumerate(table.lines)]
    rows.append(["", "合计", "", "", "", *[format_yuan(sum(getattr(x, k) for x in table.lines))
                                          for k in _PAY_AMOUNTS], "", ""])
    return rows


def _pay_note(table: PayTable) -> str:
    """What the table pays besides its lines: the creation level's 村级活动经费 (to the village)."""
    if not table.activity_fund:
        return ""
    return f"另：{table.creation_level}村村级活动经费 {format_yuan(table.activity_fund)} 元（拨付到村，不计入个人报酬）"


def write_pay_pdf(table: PayTable, out: Path | str) -> Path:
    doc = TableDocument(
        title=f"{table.village_name} {table.year}年度村干部报酬发放表",
        subtitle="；".join(x for x in (table.basis, _pay_note(table)) if x), landscape=True,
        sections=[TableSection("", _PAY_COLUMNS, _pay_rows(table),
                               (0.5, 0.9, 0.9, 0.6, 0.7, 1.1, 1.1, 1.1, 1.1, 1.1, 1.2, 1.6, 1.3),
                               (False, False, False, True, False, True, True, True, True, True, True, False, False),
                               row_height=26)],
        signature_lines=("制表人：________", "审核人：________", "村党组织（盖章）"),
        footer=f"{table.village_name}（{table.village_code}）{table.year}年度村干部报酬发放表")
    return write_table_pdf(doc, out)


def write_pay_xlsx(table: PayTable, out: Path | str) -> Path:
    """The same table as a workbook: amounts as numbers (元), every text cell written safely, a signature column."""
    book = Workbook()
    ws = book.active
    ws.title = f"{table.year}报酬发放表"
    thin = Side(style="thin", color="555555")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    set_cell(ws.cell(row=1, column=1), f"{table.village_name} {table.year}年度村干部报酬发放表").font = Font(bold=True, size=14)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(_PAY_COLUMNS))
    set_cell(ws.cell(row=2, column=1), table.basis)
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=len(_PAY_COLUMNS))
    for index, header in enumerate(_PAY_COLUMNS, start=1):
        cell = set_cell(ws.cell(row=3, column=index), header)
        cell.font, cell.border = Font(bold=True), border
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    last_amount = 5 + len(_PAY_AMOUNTS)
    for r, line in enumerate(table.lines, start=4):
        values = [r - 3, line.name, line.post, line.months, line.grade,
                  *[Decimal(getattr(line, k)) / 100 for k in _PAY_AMOUNTS], line.remark, None]
        for c, value in enumerate(values, start=1):
            cell = set_cell(ws.cell(row=r, column=c), value)
            cell.border = border
            if 6 <= c <= last_amount:
                cell.number_format = "#,##0.00"
        ws.row_dimensions[r].height = 28
    total_row = 4 + len(table.lines)
    set_cell(ws.cell(row=total_row, column=2), "合计").border = border
    for c, key in enumerate(_PAY_AMOUNTS, start=6):
        cell = set_cell(ws.cell(row=total_row, column=c), Decimal(sum(getattr(x, key) for x in table.lines)) / 100)
        cell.number_format, cell.border = "#,##0.00", border
    if _pay_note(table):
        set_cell(ws.cell(row=total_row + 1, column=2), _pay_note(table))
    for letter, width in zip("ABCDEFGHIJKLM", (6, 10, 10, 8, 9, 14, 14, 14, 14, 14, 14, 22, 16), strict=True):
        ws.column_dimensions[letter].width = width
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "3:3"
    set_cell(ws.cell(row=total_row + 3, column=2), "制表人：　　　　　审核人：　　　　　村党组织（盖章）")
    with atomic_output(out) as tmp:
        save_fitted(book, tmp)
    return Path(out)


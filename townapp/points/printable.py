"""What points show outside the program: the 公示 list (PDF, xlsx), redemption receipts,
the 积分明细 and 积分汇总 workbooks, and the charts (matplotlib Figures in the bundled font)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure
from openpyxl import Workbook
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from townapp.core.atomic import atomic_output
from townapp.core.dates import chinese_date
from townapp.core.errors import DomainError
from townapp.exchange.writer import append_fitted, safe_row
from townapp.outputs.archive_pdf import TableDocument, TableSection, write_table_pdf
from townapp.outputs.charts import cjk_font, stacked_bars
from townapp.outputs.pdf import register_cjk_font, require_glyphs, write_pdf
from townapp.outputs.table_xlsx import write_table_xlsx
from townapp.points.dto import MemberCard
from townapp.points.rules import format_points
from townapp.points.service import PointsService

PUBLICITY_HEADERS = ("序号", "姓名", "积分事项（次数）", "加分", "扣分", "本期合计")
_GRADE_COLOURS = ["#2e7d32", "#1976d2", "#f9a825", "#c62828", "#6a1b9a", "#00838f"]


# ----- 公示 ---------------------------------------------------------------------------------------
def _publicity_table(service: PointsService, publicity_id: int) -> tuple[Any, list[list[str]], int]:
    """One line per member (what a notice board can hold): the items with counts, add, deduct, net."""
    batch = service.publicity(publicity_id)
    records = service.publicity_records(publicity_id)
    if not records:
        raise DomainError("这批公示没有记录")
    members: dict[int, dict[str, Any]] = {}
    for r in sorted(records, key=lambda r: (r.name, r.party_member_id, r.occurred_on, r.id)):
        entry = members.setdefault(r.party_member_id, {"name": r.name, "items": {}, "add": 0, "deduct": 0})
        entry["items"][r.rule_name] = entry["items"].get(r.rule_name, 0) + 1
        entry["add" if r.points > 0 else "deduct"] += r.points
    table = []
    for i, entry in enumerate(members.values(), start=1):
        items = "、".join(f"{name}×{count}" if count > 1 else name for name, count in entry["items"].items())
        table.append([str(i), entry["name"], items, format_points(entry["add"], signed=True) if entry["add"] else "",
                      format_points(entry["deduct"]) if entry["deduct"] else "",
                      format_points(entry["add"] + entry["deduct"], signed=True)])
    return batch, table, len(records)


def write_publicity_pdf(service: PointsService, publicity_id: int, out: Path | str, *, issuer: str = "") -> Path:
    """The 公示 list for posting, A4 with the bundled font; a character the font lacks stops it first."""
    batch, table, count = _publicity_table(service, publicity_id)
    period = f"公示期：{batch.starts_on:%Y年%m月%d日}至{batch.ends_on:%Y年%m月%d日}"
    note = (f"以上{len(table)}名党员的{count}条积分记录已经村党组织审核（涉及乡镇审核的已经乡镇党委审核），现予公示。"
            f"{period}。公示期间如有异议，请向村党组织或乡镇党委实名反映。")
    doc = TableDocument(title=batch.title, subtitle=f"{batch.village}　{period}",
                        sections=[TableSection("公示名单", PUBLICITY_HEADERS, table,
                                               widths=(0.5, 0.9, 5.0, 0.7, 0.7, 0.8),
                                               numeric=(True, False, False, True, True, True), note=note)],
                        footer=f"{batch.title}　{period}",
                        signature_lines=(issuer or f"{batch.village}党组织（盖章）", chinese_date(batch.starts_on,
                                                                                             with_day=True)))
    return write_table_pdf(doc, out)


def write_publicity_xlsx(service: PointsService, publicity_id: int, out: Path | str) -> Path:
    """The same list as a workbook for posting (cells written safely; A4, header row repeated)."""
    batch, table, _count = _publicity_table(service, publicity_id)
    return write_table_xlsx(out, sheet="公示名单", title=batch.title,
                            subtitle=f"{batch.village}　公示期：{batch.starts_on:%Y年%m月%d日}至{batch.ends_on:%Y年%m月%d日}",
                            headers=PUBLICITY_HEADERS, rows=table, widths=(6, 10, 60, 8, 8, 10), wrap=True)


# ----- receipt ------------------------------------------------------------------------------------
def write_receipt_pdf(service: PointsService, redemption_id: int, out: Path | str) -> Path:
    """A small receipt (A6 landscape) for a redemption: number, member, goods, points, pickup point, signatures."""
    r = service.redemption(redemption_id)
    lines = [("兑换单号", r.number), ("兑换人", f"{r.member_name}（{r.village}）"),
             ("兑换商品", f"{r.item_name} × {r.quantity}"), ("使用积分", f"{format_points(r.points)} 分"),
             ("兑换时间", f"{r.redeemed_at:%Y-%m-%d %H:%M}"), ("领取地点", r.pickup_point or "—"),
             ("状态", r.status), ("经办人", r.handled_by)]
    title = "党员积分超市兑换凭条"
    require_glyphs([title, *(a for a, _ in lines), *(b for _, b in lines), "领取人签字：", "经办人签字："])
    font = register_cjk_font()
    width, height = 148 * mm, 105 * mm

    def build(tmp: Path) -> None:
        canvas = Canvas(str(tmp), pagesize=(width, height))
        canvas.setTitle(title)
        canvas.setFont(font, 15)
        canvas.drawCentredString(width / 2, height - 14 * mm, title)
        canvas.setLineWidth(0.6)
        canvas.line(10 * mm, height - 18 * mm, width - 10 * mm, height - 18 * mm)
        y = height - 26 * mm
        for label, value in lines:
            canvas.setFont(font, 9.5)
            canvas.drawString(12 * mm, y, f"{label}：")
            canvas.drawString(34 * mm, y, value)
            y -= 7 * mm
        canvas.setFont(font, 9.5)
        canvas.drawString(12 * mm, 9 * mm, "领取人签字：________")
        canvas.drawString(78 * mm, 9 * mm, "经办人签字：________")
        canvas.showPage()
        canvas.save()

    return write_pdf(out, build)


# ----- workbooks ----------------------------------------------------------------------------------
def _table_sheet(wb: Workbook, title: str, headers: Sequence[str], rows: list[list[Any]],
                 text_columns: Sequence[bool] = ()) -> None:
    """A sheet of ``rows`` under ``headers``, each column as wide as what it shows (no ###, no cut text)."""
    ws = wb.create_sheet(title)
    ws.freeze_panes = "A2"
    append_fitted(ws, headers, rows, text_columns)


def write_detail_workbook(service: PointsService, year: int, out: Path | str, village_id: int | None = None) -> int:
    """积分明细: every record of the year with status and what it counted after caps; returns the row count."""
    records = sorted(service.detail(year, village_id), key=lambda r: (r.village, r.name, r.occurred_on, r.id))
    headers = ("村/社区", "姓名", "发生日期", "规则编码", "积分事项", "类别", "加扣分", "分值", "计入分值", "状态",
               "备注", "佐证材料", "驳回理由", "生效日期", "冲正", "规则版本")
    rows = []
    for r in records:
        reversal = f"冲正记录{r.reverses_id}" if r.reverses_id else ("已被冲正" if r.reversed else "")
        rows.append([r.village, r.name, r.occurred_on, r.rule_code, r.rule_name, r.category_name, r.direction,
                     format_points(r.points, signed=True), "" if r.counted is None else format_points(r.counted, signed=True),
                     r.status, r.note, r.evidence, r.reject_reason, r.effective_on, reversal,
                     f"第{r.rule_set_version}版"])
    wb = Workbook(write_only=True)
    _table_sheet(wb, f"{year}年积分明细", headers, rows, [False, False, False, True])
    out = Path(out)
    with atomic_output(out) as tmp:
        wb.save(tmp)
    return len(rows)


def write_summary_workbook(service: PointsService, year: int, out: Path | str) -> int:
    """积分汇总: per member (by category, quarter, total, grade), per village and per branch; returns member rows."""
    info, rules = service.rule_set(year)
    summaries = sorted(service.member_summaries(year), key=lambda x: (x[0].village, x[0].branch, x[0].name))
    categories = [c.name for c in rules.top_categories]
    member_rows = []
    for row, totals, _counted in summaries:
        by = dict(totals.by_category)
        member_rows.append([row.village, row.branch, row.name, row.category,
                            *[format_points(by.get(c, 0)) for c in categories],
                            *[format_points(q) for q in totals.quarters], format_points(row.total), row.grade])
    grades = [g.name for g in rules.grades]
    wb = Workbook(write_only=True)
    _table_sheet(wb, "党员积分汇总", ("村/社区", "党支部", "姓名", "管理类别", *categories, "一季度", "二季度", "三季度",
                                     "四季度", "年度总分", "等级"), member_rows)
    for title, groups in (("各村汇总", service.village_summaries(year)), ("各支部汇总", service.branch_summaries(year))):
        rows = [[g.name, g.participants, "" if g.average is None else f"{g.average}", format_points(g.highest),
                 format_points(g.lowest), *[g.grades.get(x, 0) for x in grades]]
                for g in sorted(groups, key=lambda g: g.name)]
        _table_sheet(wb, title, ("名称", "参与积分人数", "平均分", "最高分", "最低分", *grades), rows)
    ws = wb.create_sheet("说明")
    ws.append(safe_row(ws, [f"{year}年党员积分汇总，积分规则：{info.name}（第{info.version}版）" if info.version
                            else f"{year}年党员积分汇总，积分规则：{info.name}"]))
    ws.append(safe_row(ws, ["年度总分 = 基础分（扣完为止）+ 各类加分（按规则、周期和类别封顶）− 扣分；只计已生效且未冲正的记录。"]))
    ws.append(safe_row(ws, [f"导出时间：{dt.datetime.now():%Y-%m-%d %H:%M}"]))
    out = Path(out)
    with atomic_output(out) as tmp:
        wb.save(tmp)
    return len(member_rows)


# ----- charts -------------------------------------------------------------------------------------
def distribution_figure(service: PointsService, year: int, figure: Figure | None = None) -> Figure:
    """Stacked bars: per village, members at each grade — the score distribution by village."""
    grades, per_village = service.distribution(year)
    layers = [(grade, [c.get(grade, 0) for _, c in per_village], _GRADE_COLOURS[index % len(_GRADE_COLOURS)])
              for index, grade in enumerate(grades)]
    return stacked_bars([name for name, _ in per_village], layers, title=f"{year}年各村党员积分等级分布",
                        unit="党员人数", empty_text="暂无参与积分的党员", legend_columns=len(grades), legend_below=0.12,
                        figure=figure, size=(7.0, 3.6))


def history_figure(card: MemberCard, figure: Figure | None = None) -> Figure:
    """The member's year month by month: points counted each month (bars) and the running score (line)."""
    fig = figure or Figure(figsize=(5.0, 2.6), dpi=100)
    fig.clear()
    ax = fig.add_subplot(1, 1, 1)
    font = cjk_font()
    months = list(range(1, 13))
    monthly = [v / 10 for v in card.totals.months]
    running = [v / 10 for v in card.totals.cumulative]
    ax.bar(months, monthly, color=["#59a14f" if v >= 0 else "#e15759" for v in monthly], label="当月计入")
    ax.plot(months, running, color="#4e79a7", marker="o", linewidth=2, label="累计得分")
    ax.set_xticks(months)
    ax.set_xticklabels([f"{x}月" for x in months], fontproperties=font, fontsize=7)
    ax.set_title(f"{card.member.name} {card.year}年积分走势", fontproperties=font, fontsize=10)
    top = max([*running, *monthly, 1])
    ax.set_ylim(min(0, *monthly, *running) * 1.1, top * 1.35)  # room for the legend above the line
    ax.legend(prop=font, fontsize=8, loc="upper left", ncol=2, frameon=False)
    ax.axhline(0, color="#999999", linewidth=0.6)
    for label in ax.get_yticklabels():
        label.set_fontproperties(font)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig

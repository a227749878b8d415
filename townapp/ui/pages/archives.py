"""一村一档 pages: the township overview and one village's archive in tabs.

Every tab is a keyboard table (Tab/Enter move, typing edits); Ctrl+S saves the
tab on screen, rule messages appear under it and the cells concerned turn
red (error) or amber (warning). The economy tab carries a matplotlib chart of
collective income and debt over the years, redrawn after each save.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from townapp.archives import dto as d
from townapp.archives.payroll import pay_tables, write_creation_awards_xlsx, write_payroll_xlsx
from townapp.archives.printable import income_chart, write_archive, write_pay_pdf, write_pay_xlsx
from townapp.archives.service import ArchiveService, attachments_dir
from townapp.archives.vocab import clause_texts, fields, vocab
from townapp.core import permissions
from townapp.core.errors import DomainError, FieldProblem, ValidationFailed
from townapp.core.money import format_yuan
from townapp.ui.context import AppContext
from townapp.ui.forms.archives import FiguresForm, GridColumn, GridEditor
from townapp.ui.jobs import call_service, in_steps, problems_of
from townapp.ui.pages.base import Page
from townapp.ui.widgets.done import announce_written, show_pdf
from townapp.ui.widgets.fields import HINT_STYLE, ErrorLabel
from townapp.ui.widgets.tables import TableSearch, current_key, fill_table

OVERVIEW_TITLE = "一村一档总览"
VILLAGE_TITLE = "村档案"


def create_pages(ctx: AppContext) -> list[Page]:
    service = ArchiveService(ctx.db, ctx.actor)
    village = VillageArchivePage(ctx, service)
    overview = ArchiveOverviewPage(ctx, service)
    overview.village_opened.connect(lambda vid: _open_village(overview, village, vid))
    return [overview, village]


def _open_village(overview: Page, village: VillageArchivePage, village_id: int) -> None:
    village.select_village(village_id)
    window = overview.window()
    if hasattr(window, "open_page"):
        window.open_page(VILLAGE_TITLE)


def _button(text: str, slot: Callable[[], object], name: str = "") -> QPushButton:
    button = QPushButton(text)
    button.setObjectName(name)
    button.clicked.connect(lambda _checked=False: slot())  # never hand ``checked`` to the slot (增加一行 took it for its grid)
    return button


def _columns(group: str) -> list[GridColumn]:
    out = []
    for f in fields(group):
        kind = "enum" if f.vocabulary else f.kind
        choices = vocab(f.vocabulary).values if f.vocabulary else ()
        out.append(GridColumn(f.key, f.label, kind, choices))
    return out


class ArchiveOverviewPage(Page):
    """All villages with their latest key figures and how many rules they break."""

    title = OVERVIEW_TITLE
    village_opened = Signal(int)
    HEADERS = ("区划代码", "村/社区", "最新年度", "总收入（元）", "经营性收入（元）", "年末债务（元）", "创建等级",
               "软弱涣散", "规则错误", "规则提示")

    def __init__(self, ctx: AppContext, service: ArchiveService) -> None:
        super().__init__()
        self.ctx, self.service = ctx, service
        self.table = QTableWidget(0, len(self.HEADERS))
        self.table.setObjectName("archive_overview")
        self.table.setHorizontalHeaderLabels(list(self.HEADERS))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.doubleClicked.connect(lambda index: self._open(index.row()))
        self.table.activated.connect(lambda index: self._open(index.row()))
        self.problems = QLabel()
        self.problems.setWordWrap(True)
        self.problems.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.search = TableSearch(self.table, "搜索：村/社区名称、区划代码、创建等级")
        self.search.setMaximumWidth(360)
        self.level_filter = self.search.add_choice(6, "创建等级：全部")
        self.rectifying_filter = self.search.add_choice(7, "软弱涣散：全部")
        top = QHBoxLayout()
        top.addWidget(QLabel("双击或按回车打开该村档案。"))
        top.addStretch(1)
        top.addWidget(self.level_filter)
        top.addWidget(self.rectifying_filter)
        top.addWidget(self.search, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 3)
        layout.addWidget(self.problems, 1)
        self.rows: list[d.OverviewRow] = []

    def refresh(self) -> None:
        self.rows = self.service.overview()
        fill_table(self.table, self.HEADERS, [
            (row.code, row.name, row.latest_year or "", format_yuan(row.total_income),
             format_yuan(row.business_income), format_yuan(row.debt_closing), row.creation_level or "",
             "整顿中" if row.rectifying else "", row.errors or "", row.warnings or "") for row in self.rows],
            keys=[row.village_id for row in self.rows], sortable=True)
        for r in range(self.table.rowCount()):
            for c in (3, 4, 5, 8, 9):
                self.table.item(r, c).setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.search.apply()
        self.table.resizeColumnsToContents()
        violations = self.service.violations()
        text = "\n".join(("错误：" if v.severity == "error" else "提示：") + v.describe() for v in violations[:40])
        self.problems.setText(text or "所有村的档案均符合校验规则。")
        self.problems.setStyleSheet("color: #c62828;" if any(v.severity == "error" for v in violations) else "")

    def _open(self, row: int) -> None:
        """Open the village on ``row`` as shown (a header click may have sorted the list)."""
        item = self.table.item(row, 0) if row >= 0 else None
        if item is not None:
            self.village_opened.emit(item.data(Qt.ItemDataRole.UserRole))


class _Tab(QWidget):
    """One tab of the village page: loads for (village, year), saves on Ctrl+S."""

    saved = Signal()

    def __init__(self, page: VillageArchivePage) -> None:
        super().__init__()
        self.page = page
        self.service = page.service
        self.message = ErrorLabel()
        self.message.setObjectName("rule_message")

    @property
    def village_id(self) -> int:
        return self.page.village_id

    @property
    def year(self) -> int:
        return self.page.year.value()

    def load(self) -> None:
        """Re-read this tab's data."""

    def writes(self) -> list[Callable[[], object]]:
        """This tab's service writes, with what was typed read now (they may run on a worker thread while
        the database is busy); raises DomainError for a cell that cannot be read."""
        return []

    def after_save(self, results: list[object]) -> None:
        """What the tab shows once its writes are done (``results`` in the order of ``writes``)."""

    def show_problems(self, problems: list[FieldProblem]) -> None:
        self.message.show_problems(problems)


class _SteadyMessage(ErrorLabel):
    """The rule messages of a tab checked at every keystroke, in a space reserved for them: always ``lines``
    lines high and never hidden, so a message coming, growing or going never resizes the form being typed
    in (the cell under the cursor stays where it was). What does not fit is in the tooltip."""

    def __init__(self, lines: int = 3) -> None:
        super().__init__()
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.setFixedHeight(self.fontMetrics().lineSpacing() * lines + 4)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)

    def hide(self) -> None:
        """Kept in its place, empty: ErrorLabel hides when there is nothing to say."""

    def show_problems(self, problems: list[FieldProblem]) -> None:
        super().show_problems(problems)
        self.setToolTip(self.text())

    def show_hint(self, text: str) -> None:
        self.setStyleSheet(HINT_STYLE)
        self.setText(text)
        self.setToolTip(text)


class EconomyTab(_Tab):
    """集体经济, 债务, 运转经费, 创建等级 for the year, with the chart of all years and the cooperatives."""

    def __init__(self, page: VillageArchivePage) -> None:
        super().__init__(page)
        self.message = _SteadyMessage()  # checked while typing: a message must not shrink the form
        self.message.setObjectName("rule_message")
        self.form = FiguresForm([*_columns("economy"), *_columns("debt"), *_columns("funding"), *_columns("rating")])
        self.form.setObjectName("economy_form")
        self.form.setColumnWidth(0, 160)
        self.form.itemChanged.connect(lambda _item: self.check())
        self.figure = Figure(figsize=(5.5, 3.2), dpi=100)
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setObjectName("economy_chart")
        self.canvas.setMinimumSize(360, 260)
        self.cooperatives = GridEditor([GridColumn("name", "领办合作社名称", width=220), GridColumn("members", "成员数", "int", width=70),
                                        GridColumn("income_to_collective", "为集体增收（元）", "money", width=130)])
        left = QVBoxLayout()
        left.addWidget(self.form)
        left.addWidget(self.message)
        right = QVBoxLayout()
        right.addWidget(self.canvas, 3)
        right.addWidget(QLabel("村党组织领办合作社（本年度）"))
        right.addWidget(self.cooperatives, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(_button("增加合作社", lambda: self.cooperatives.add_row()))
        buttons.addWidget(_button("删除合作社", self.cooperatives.remove_current_row))
        buttons.addStretch(1)
        right.addLayout(buttons)
        layout = QHBoxLayout(self)
        layout.addLayout(left, 1)
        layout.addLayout(right, 1)
        self.chart_years: list[int] = []

    def load(self) -> None:
        self.form.blockSignals(True)
        data = self.service.year(self.village_id, self.year)
        self.form.set_values(data.values)
        self.form.set_sources(data.sources)  # stars and creation level written by 定级: read-only
        self.form.blockSignals(False)
        self.cooperatives.set_records([vars(c) for c in self.service.cooperatives(self.village_id, self.year)])
        self.message.show_problems([])
        self.check()
        self.redraw()

    def redraw(self) -> None:
        income_chart(self.service, self.village_id, self.figure)
        self.chart_years = [p.year for p in self.service.chart_points(self.village_id)]
        self.canvas.draw_idle()

    def _data(self) -> d.YearData:
        return d.YearData(self.village_id, self.year, self.form.values())

    def check(self) -> list[FieldProblem]:
        """Inline: the rules are applied while the user types."""
        try:
            problems = self.service.check_year(self._data())
        except ValueError as exc:
            problems = [FieldProblem("", str(exc))]
        else:
            self.form.mark_problems(problems)
        self.show_problems(problems)
        return problems

    def writes(self) -> list[Callable[[], object]]:
        try:
            data = self._data()
            coops = [d.CooperativeData(r["name"] or "", r["members"], r["income_to_collective"], r["id"])
                     for r in self.cooperatives.records()]
        except ValueError as exc:
            raise DomainError(str(exc)) from None
        village_id, year = self.village_id, self.year
        return [lambda: self.service.save_year(data),
                lambda: self.service.save_cooperatives(village_id, year, coops)]

    def after_save(self, results: list[object]) -> None:
        warnings = results[0]
        self.show_problems(warnings)
        self.form.mark_problems(warnings)
        self.redraw()


class ProfileTab(_Tab):
    def __init__(self, page: VillageArchivePage) -> None:
        super().__init__(page)
        self.form = FiguresForm(_columns("profile"))
        self.form.setColumnWidth(0, 260)
        self.party = QLabel()
        self.party.setWordWrap(True)
        self.centre = FiguresForm([GridColumn("address", "党群服务中心地址"), GridColumn("area_m2", "面积（㎡）", "decimal"),
                                   GridColumn("built_year", "建成年份", "int"), GridColumn("rooms", "功能室（用、隔开）")])
        layout = QHBoxLayout(self)
        left = QVBoxLayout()
        left.addWidget(QLabel("村情概况（本年度）"))
        left.addWidget(self.form)
        left.addWidget(self.party)
        left.addWidget(self.message)
        right = QVBoxLayout()
        right.addWidget(QLabel("党群服务中心"))
        right.addWidget(self.centre)
        layout.addLayout(left, 1)
        layout.addLayout(right, 1)

    def load(self) -> None:
        profile = self.service.profile(self.village_id, self.year)
        self.form.set_values(profile.values)
        p = profile.party
        self.party.setText(f"党员（取自人员信息登记，不另填写）：共 {p.total} 名，其中正式党员 {p.formal}、预备党员 "
                           f"{p.probationary}、女党员 {p.female}、35岁及以下 {p.young}、流动党员 {p.mobile}")
        c = self.service.centre(self.village_id)
        self.centre.set_values({"address": c.address, "area_m2": c.area_m2, "built_year": c.built_year,
                                "rooms": "、".join(c.rooms)})
        self.message.show_problems([])

    def writes(self) -> list[Callable[[], object]]:
        try:
            values, centre = self.form.values(), self.centre.values()
        except ValueError as exc:
            raise DomainError(str(exc)) from None
        profile = d.ProfileData(self.village_id, self.year, values)
        rooms = [x for x in (centre.get("rooms") or "").replace("，", "、").split("、") if x.strip()]
        village_id, data = self.village_id, d.CentreData(centre["address"], centre["area_m2"], centre["built_year"], rooms)
        return [lambda: self.service.save_profile(profile), lambda: self.service.save_centre(village_id, data)]


class GridTab(_Tab):
    """A tab of one or more grids with add/remove buttons; subclasses map records to DTOs."""

    def __init__(self, page: VillageArchivePage, grids: list[tuple[str, GridEditor]]) -> None:
        super().__init__(page)
        self.searches: list[TableSearch] = []  # one per grid, applied again after each load
        layout = QVBoxLayout(self)
        splitter = QSplitter(Qt.Orientation.Vertical)
        for caption, grid in grids:
            box = QWidget()
            inner = QVBoxLayout(box)
            inner.setContentsMargins(0, 0, 0, 0)
            head = QHBoxLayout()
            head.addWidget(QLabel(caption))
            head.addStretch(1)
            search = TableSearch(grid, "查找")  # hides rows, never moves them: what is typed stays in its row
            search.setMaximumWidth(180)
            self.searches.append(search)
            head.addWidget(search)
            head.addWidget(_button("增加一行", lambda g=grid: g.setCurrentCell(g.add_row(), 0)))
            head.addWidget(_button("删除所选行", grid.remove_current_row))
            inner.addLayout(head)
            inner.addWidget(grid)
            splitter.addWidget(box)
        layout.addWidget(splitter)
        layout.addWidget(self.message)

    def person_id(self, text: str) -> int | None:
        return self.service.resolve_person(self.village_id, text) if text and text.strip() else None


class CadresTab(GridTab):
    def __init__(self, page: VillageArchivePage) -> None:
        self.cadres = GridEditor([
            GridColumn("person", "姓名或身份证号", width=150), GridColumn("post", "职务", "enum", vocab("cadre_post").values),
            GridColumn("one_shoulder", "一肩挑", "bool", width=60), GridColumn("started_on", "任职日期", "month"),
            GridColumn("ended_on", "离任日期（现任不填）", "month", width=150), GridColumn("term_no", "届次", "int", width=60)])
        self.terms = GridEditor([GridColumn("term_no", "届次", "int"), GridColumn("starts_on", "本届开始", "month"),
                                 GridColumn("ends_on", "本届届满", "month"), GridColumn("completed", "换届完成", "bool"),
                                 GridColumn("note", "备注", width=200)])
        self.first = GridEditor([GridColumn("name", "第一书记姓名"), GridColumn("unit", "派出单位", width=180),
                                 GridColumn("started_on", "任期开始", "month"), GridColumn("ended_on", "任期结束", "month"),
                                 GridColumn("phone", "联系电话")])
        super().__init__(page, [("村“两委”成员（一肩挑的书记、主任各一行）", self.cadres), ("换届", self.terms),
                                ("第一书记", self.first)])

    def load(self) -> None:
        self.cadres.set_records([{**vars(c), "person": c.name} for c in self.service.cadres(self.village_id)])
        self.terms.set_records([vars(t) for t in self.service.terms(self.village_id)])
        self.first.set_records([vars(f) for f in self.service.first_secretaries(self.village_id)])
        self.show_problems(self.service.check_cadres(self.village_id, self.service.cadres(self.village_id)))

    def writes(self) -> list[Callable[[], object]]:
        try:
            cadres = [d.CadreData(self.person_id(r["person"]), r["post"] or "", r["one_shoulder"], r["started_on"],
                                  r["ended_on"], r["term_no"], r["person"] or "", r["id"]) for r in self.cadres.records()]
            terms = [d.TermData(r["term_no"], r["starts_on"], r["ends_on"], r["completed"], r["note"], r["id"])
                     for r in self.terms.records()]
            first = [d.FirstSecretaryData(r["name"] or "", r["unit"], r["started_on"], r["ended_on"], r["phone"], r["id"])
                     for r in self.first.records()]
        except ValueError as exc:
            raise DomainError(str(exc)) from None
        village_id = self.village_id
        return [lambda: self.service.save_cadres(village_id, cadres), lambda: self.service.save_terms(village_id, terms),
                lambda: self.service.save_first_secretaries(village_id, first)]


class TalentsTab(GridTab):
    KINDS = ("后备干部", "振兴专员", "在外人才")

    def __init__(self, page: VillageArchivePage) -> None:
        self.grids = {
            "后备干部": GridEditor([GridColumn("name", "姓名"), GridColumn("birth_date", "出生日期", "month"),
                                  GridColumn("education", "学历"), GridColumn("measures", "培养措施", width=260)]),
            "振兴专员": GridEditor([GridColumn("name", "姓名"), GridColumn("birth_date", "出生日期", "month"),
                                  GridColumn("education", "学历"), GridColumn("arrived_on", "到岗日期", "month")]),
            "在外人才": GridEditor([GridColumn("name", "姓名"), GridColumn("workplace", "外出地", width=140),
                                  GridColumn("industry", "行业"), GridColumn("contact", "联系人"),
                                  GridColumn("return_intent", "回引意向", "enum", vocab("return_intent").values),
                                  GridColumn("returned", "回村任职", "bool"), GridColumn("phone", "联系电话")]),
        }
        super().__init__(page, [("后备干部", self.grids["后备干部"]), ("乡村振兴专员", self.grids["振兴专员"]),
                                ("在外优秀人才库", self.grids["在外人才"])])
        self.loaded: dict[int, d.TalentData] = {}

    def load(self) -> None:
        talents = self.service.talents(self.village_id)
        self.loaded = {t.id: t for t in talents if t.id is not None}
        for kind, grid in self.grids.items():
            grid.set_records([vars(t) for t in talents if t.kind == kind])
        self.message.show_problems([])

    def writes(self) -> list[Callable[[], object]]:
        try:
            batches = {kind: grid.records() for kind, grid in self.grids.items()}
        except ValueError as exc:
            raise DomainError(str(exc)) from None
        steps: list[Callable[[], object]] = []
        for kind, records in batches.items():
            items = []
            for rec in records:
                old = self.loaded.get(rec["id"]) or d.TalentData(kind, "")
                values = {k: v for k, v in rec.items() if k not in ("_row",)}
                items.append(d.TalentData(**{**vars(old), **values, "kind": kind}))
            steps.append(partial(self.service.save_talents, self.village_id, kind, items))
        return steps


class PayTab(GridTab):
    def __init__(self, page: VillageArchivePage) -> None:
        self.inputs = GridEditor([GridColumn("person", "姓名或身份证号", width=150),
                                  GridColumn("post", "职务", "enum", vocab("cadre_post").values),
                                  GridColumn("months", "任职月数", "int", width=80),
                                  GridColumn("grade", "考核等级", "enum", vocab("pay_grade").values),
                                  GridColumn("grade_source", "考核等级来源", "readonly", width=300)])
        self.result = GridEditor([GridColumn(k, h, "readonly", width=w) for k, h, w in (
            ("name", "姓名", 80), ("post", "职务", 70), ("basic", "基本报酬", 100), ("assessment", "考核报酬", 100),
            ("star", "星级奖励", 100), ("bonus", "晋位及连续奖励", 110), ("creation", "创建奖励", 100),
            ("total", "合计（元）", 110), ("remark", "备注", 260))])
        super().__init__(page, [("报酬计算依据（本年度；星级、创建等级和书记考核等级定级后自动写入，未定级的在“集体经济”页填写）",
                                 self.inputs),
                                ("报酬发放表（按报酬规则计算）", self.result)])
        row = QHBoxLayout()
        row.addWidget(_button("导出发放表（Excel）", lambda: self._export("xlsx"), "export_pay_xlsx"))
        row.addWidget(_button("导出发放表（PDF）", lambda: self._export("pdf"), "export_pay_pdf"))
        row.addWidget(_button("导出按月发放表（Excel）", lambda: self._export_sheet("payroll"), "export_payroll_xlsx"))
        row.addWidget(_button("导出创建奖励发放表（Excel）", lambda: self._export_sheet("creation"),
                              "export_creation_xlsx"))
        row.addStretch(1)
        self.layout().addLayout(row)

    def load(self) -> None:
        inputs = self.service.pay_inputs(self.village_id, self.year)
        self.inputs.set_records([{**vars(p), "person": p.name} for p in inputs])
        for index, p in enumerate(inputs):
            if p.grade_source:  # the 书记's annual result from 定级: shown, not typed again
                self.inputs.lock_cell(index, "grade", p.grade_source)
        table = self.service.pay_table(self.village_id, self.year)
        self.result.set_records([{"name": x.name, "post": x.post, "remark": x.remark,
                                  **{k: format_yuan(getattr(x, k)) for k in
                                     ("basic", "assessment", "star", "bonus", "creation", "total")}}
                                 for x in table.lines])
        fund = f"；村级活动经费 {format_yuan(table.activity_fund)} 元（拨付到村）" if table.activity_fund else ""
        self.message.show_hint(f"{table.basis}；合计 {format_yuan(table.total)} 元{fund}")

    def writes(self) -> list[Callable[[], object]]:
        try:
            items = [d.PayData(self.person_id(r["person"]), r["post"] or "", r["months"] if r["months"] is not None else 12,
                               r["grade"], r["person"] or "", r["id"]) for r in self.inputs.records()]
        except ValueError as exc:
            raise DomainError(str(exc)) from None
        return [partial(self.service.save_pay_inputs, self.village_id, self.year, items)]

    def _export(self, kind: str) -> None:
        name = self.page.village_name()
        path, _ = QFileDialog.getSaveFileName(self, "保存报酬发放表", f"{name}{self.year}年村干部报酬发放表.{kind}",
                                              "Excel 工作簿 (*.xlsx)" if kind == "xlsx" else "PDF 文件 (*.pdf)")
        if path:
            table = self.service.pay_table(self.village_id, self.year)
            (write_pay_xlsx if kind == "xlsx" else write_pay_pdf)(table, path)
            if kind == "pdf":
                show_pdf(self, path)
            announce_written(self, path, "村干部报酬发放表", title="已导出", name="pay_done")

    def _export_sheet(self, kind: str) -> None:
        """按月发放表 or 创建奖励发放表: the whole township for township users, the own village for a clerk."""
        township = permissions.visible_village(self.service.actor) is None
        place = "全乡镇" if township else self.page.village_name()
        title = "村干部报酬按月发放表" if kind == "payroll" else "创建奖励发放表"
        path, _ = QFileDialog.getSaveFileName(self, f"保存{title}", f"{place}{self.year}年{title}.xlsx",
                                              "Excel 工作簿 (*.xlsx)")
        if path:
            tables = pay_tables(self.service, self.year, None if township else self.village_id)
            (write_payroll_xlsx if kind == "payroll" else write_creation_awards_xlsx)(tables, path)
            self.message.show_hint(f"已导出{place}{len(tables)}个村（社区）的{title}：{path}")
            announce_written(self, path, title, title="已导出", detail=f"{place}{len(tables)}个村（社区）",
                             name="pay_sheet_done")


class RectificationTab(GridTab):
    def __init__(self, page: VillageArchivePage) -> None:
        self.grid = GridEditor([
            GridColumn("year", "认定年度", "int", width=70), GridColumn("clauses", "认定条款（编号，用、隔开）", width=150),
            GridColumn("measures", "整顿措施", width=200), GridColumn("leader", "包联领导"),
            GridColumn("accepted_on", "验收日期", "date"), GridColumn("score", "验收得分", "decimal", width=70),
            GridColumn("result", "验收结果", "enum", vocab("rectification_result").values, width=70),
            GridColumn("review_on", "回头看日期", "date"), GridColumn("review_note", "回头看情况", width=160),
            GridColumn("stage", "当前阶段", "readonly", width=80)])
        super().__init__(page, [("软弱涣散村党组织整顿（全部历史）", self.grid)])
        clauses = "；".join(f"{k}.{v}" for k, v in clause_texts().items())
        self.legend = QLabel(f"认定条款：{clauses}")
        self.legend.setWordWrap(True)
        self.layout().insertWidget(0, self.legend)

    def load(self) -> None:
        self.grid.set_records([{**vars(x), "clauses": "、".join(x.clauses), "stage": x.stage}
                               for x in self.service.rectifications(self.village_id)])
        self.message.show_problems([])

    def writes(self) -> list[Callable[[], object]]:
        try:
            records = self.grid.records()
        except ValueError as exc:
            raise DomainError(str(exc)) from None
        village_id, steps = self.village_id, []
        for r in records:
            clauses = [c for c in (r["clauses"] or "").replace("，", "、").replace(",", "、").split("、") if c.strip()]
            data = d.RectificationData(r["year"], clauses, r["measures"], r["leader"], r["accepted_on"], r["score"],
                                       r["result"], r["review_on"], r["review_note"], r["id"])
            steps.append(partial(self.service.save_rectification, village_id, data))

        def delete_the_others(kept: list[object]) -> None:  # a retry lists again: a deleted one is gone
            for old in self.service.rectifications(village_id):
                if old.id not in kept:
                    self.service.delete_rectification(old.id)

        saved: list[object] = []
        return [*(lambda step=step: saved.append(step()) for step in steps), lambda: delete_the_others(saved)]


class CommitmentsTab(GridTab):
    def __init__(self, page: VillageArchivePage) -> None:
        self.grid = GridEditor([GridColumn("title", "承诺事项", width=260), GridColumn("owner", "责任人"),
                                GridColumn("deadline", "时限", "date"),
                                GridColumn("status", "状态", "enum", vocab("commitment_status").values),
                                GridColumn("completed_on", "完成日期", "date")])
        super().__init__(page, [("为民办实事公开承诺（本年度3至5项）", self.grid)])

    def load(self) -> None:
        items = self.service.commitments(self.village_id, self.year)
        self.grid.set_records([vars(c) for c in items])
        self.show_problems(self.service.check_commitments(self.year, items) if items else [])

    def writes(self) -> list[Callable[[], object]]:
        try:
            items = [d.CommitmentData(self.year, r["title"] or "", r["owner"], r["deadline"], r["status"] or "未开始",
                                      r["completed_on"], r["id"]) for r in self.grid.records()]
        except ValueError as exc:
            raise DomainError(str(exc)) from None
        return [partial(self.service.save_commitments, self.village_id, self.year, items)]

    def after_save(self, results: list[object]) -> None:
        self.show_problems(results[0])


class MeetingsTab(GridTab):
    """Meetings of the year; the attendance of the selected meeting below (every party member of the village)."""

    def __init__(self, page: VillageArchivePage) -> None:
        self.grid = GridEditor([GridColumn("held_on", "日期", "date"),
                                GridColumn("kind", "类型", "enum", vocab("meeting_kind").values, width=110),
                                GridColumn("topic", "主题", width=240), GridColumn("host", "主持人"),
                                GridColumn("counts", "出席/请假/缺席", "readonly", width=110)])
        self.attendance = GridEditor([GridColumn("name", "党员", "readonly"),
                                      GridColumn("status", "出席情况", "enum", vocab("attendance").values),
                                      GridColumn("reason", "请假原因", width=200)])
        super().__init__(page, [("三会一课与主题党日（本年度）", self.grid), ("所选会议的出席情况", self.attendance)])
        self.grid.currentCellChanged.connect(lambda row, _c, old, _o: self._show_attendance(row) if row != old else None)
        self.meetings: list[d.MeetingData] = []
        self.members: list[d.PartyMemberChoice] = []
        self.shown_row = -1
        self.edited: dict[int, list[dict[str, Any]]] = {}

    def load(self) -> None:
        self.meetings = self.service.meetings(self.village_id, self.year)
        self.members = self.service.party_members(self.village_id)
        self.edited = {}
        self.shown_row = -1
        self.grid.set_records([{**vars(x), "counts": f"{x.count('出席')}/{x.count('请假')}/{x.count('缺席')}"}
                               for x in self.meetings])
        self.attendance.setRowCount(0)
        self.message.show_problems([])

    def _keep_attendance(self) -> None:
        if self.shown_row >= 0:
            self.edited[self.shown_row] = [{"party_member_id": self.members[i].party_member_id,
                                            "status": self.attendance.cell_text(i, "status"),
                                            "reason": self.attendance.cell_text(i, "reason")}
                                           for i in range(self.attendance.rowCount())]

    def _show_attendance(self, row: int) -> None:
        self._keep_attendance()
        self.shown_row = row
        if row in self.edited:
            status = {x["party_member_id"]: (x["status"], x["reason"]) for x in self.edited[row]}
        else:
            meeting = self.meetings[row] if row < len(self.meetings) else None
            status = {x.party_member_id: (x.status, x.reason or "") for x in (meeting.attendance if meeting else [])}
        self.attendance.set_records([{"name": c.name, "status": status.get(c.party_member_id, ("", ""))[0],
                                      "reason": status.get(c.party_member_id, ("", ""))[1]} for c in self.members])
        self.searches[1].apply()  # the name looked for in the last meeting's attendance, in this one's too

    def writes(self) -> list[Callable[[], object]]:
        self._keep_attendance()
        try:
            records = self.grid.records()
        except ValueError as exc:
            raise DomainError(str(exc)) from None
        village_id, steps = self.village_id, []
        for r in records:
            row = r["_row"]
            if row in self.edited:
                attendance = [d.AttendanceData(x["party_member_id"], x["status"], x["reason"] or None,
                                               next(c.name for c in self.members if c.party_member_id == x["party_member_id"]))
                              for x in self.edited[row] if x["status"]]
            else:
                old = next((x for x in self.meetings if x.id == r["id"]), None)
                attendance = old.attendance if old else []
            steps.append(partial(self.service.save_meeting, village_id, d.MeetingData(
                r["held_on"], r["kind"] or "", r["topic"] or "", r["host"], attendance, r["id"])))
        kept = {r["id"] for r in records}
        steps += [partial(self.service.delete_meeting, old.id) for old in self.meetings if old.id not in kept]
        return steps


ATTACHMENT_HEADERS = ("名称", "年度", "大小", "SHA-256（前12位）")


class AttachmentsTab(_Tab):
    def __init__(self, page: VillageArchivePage) -> None:
        super().__init__(page)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(list(ATTACHMENT_HEADERS))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setColumnWidth(0, 300)
        self.table.doubleClicked.connect(lambda _i: self.open_selected())
        buttons = QHBoxLayout()
        buttons.addWidget(_button("添加扫描件或照片…", self.add))
        buttons.addWidget(_button("打开", self.open_selected))
        buttons.addWidget(_button("删除", self.remove_selected))
        buttons.addStretch(1)
        self.search = TableSearch(self.table, "搜索附件：名称、年度")
        self.search.setMaximumWidth(300)
        buttons.addWidget(self.search, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.table)
        layout.addWidget(self.message)
        self.rows: list[d.AttachmentData] = []

    def load(self) -> None:
        self.rows = self.service.attachments(self.village_id)
        fill_table(self.table, ATTACHMENT_HEADERS,
                   [(x.title, x.year or "", f"{max(1, x.size // 1024)} KB", x.sha256[:12]) for x in self.rows],
                   keys=[x.id for x in self.rows], widths=(300,), sortable=True)
        self.search.apply()
        self.message.show_hint(f"附件按内容保存一份（相同文件不重复占用空间），保存在 {attachments_dir()} 中。")

    def add(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "选择附件", "", "扫描件和照片 (*.pdf *.jpg *.jpeg *.png *.tif *.tiff);;所有文件 (*)")
        if paths:
            adds = [partial(self.service.add_attachment, self.village_id, Path(path), year=self.year) for path in paths]
            call_service(self, in_steps(*adds), lambda _r: self.load(), self.page.show_error)

    def _selected(self) -> d.AttachmentData | None:
        """The attachment on the row the user picked, wherever a header click has put it."""
        key = current_key(self.table) if self.table.selectedItems() else None
        return next((x for x in self.rows if x.id == key), None)

    def open_selected(self) -> None:
        item = self._selected()
        if item:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.service.attachment_path(item.id))))

    def remove_selected(self) -> None:
        item = self._selected()
        if item and self.page.confirm(f"确定删除附件“{item.title}”吗？"):
            call_service(self, lambda: self.service.remove_attachment(item.id), lambda _r: self.load(),
                         self.page.show_error)


class VillageArchivePage(Page):
    """One village's archive: village and year at the top, the parts in tabs."""

    title = VILLAGE_TITLE

    def __init__(self, ctx: AppContext, service: ArchiveService) -> None:
        super().__init__()
        self.ctx, self.service = ctx, service
        self.village = QComboBox()
        self.village.setObjectName("archive_village")
        self.village.setMinimumWidth(180)
        self.year = QSpinBox()
        self.year.setObjectName("archive_year")
        self.year.setRange(2000, 2100)
        self.year.setSuffix(" 年")
        self.year.setValue(dt.date.today().year - 1)
        self.save_button = _button("保存（Ctrl+S）", self.save_current, "archive_save")
        top = QHBoxLayout()
        top.addWidget(QLabel("村/社区"))
        top.addWidget(self.village)
        top.addWidget(QLabel("年度"))
        top.addWidget(self.year)
        top.addWidget(self.save_button)
        top.addWidget(_button("打印一村一档（PDF）…", self.print_archive, "archive_print"))
        top.addStretch(1)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("archive_tabs")
        self.economy = EconomyTab(self)
        self.parts: list[tuple[str, _Tab]] = [
            ("村情概况", ProfileTab(self)), ("集体经济与债务", self.economy), ("两委班子", CadresTab(self)),
            ("人才", TalentsTab(self)), ("村干部报酬", PayTab(self)), ("软弱涣散", RectificationTab(self)),
            ("承诺事项", CommitmentsTab(self)), ("会议记录", MeetingsTab(self)), ("附件", AttachmentsTab(self))]
        for caption, tab in self.parts:
            self.tabs.addTab(tab, caption)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.tabs)
        QShortcut(QKeySequence.StandardKey.Save, self, activated=self.save_current)
        self.village.currentIndexChanged.connect(lambda _i: self.load_current())
        self.year.valueChanged.connect(lambda _v: self.load_current())
        self.tabs.currentChanged.connect(lambda _i: self.load_current())
        self._loading = False

    @property
    def village_id(self) -> int:
        return self.village.currentData()

    def village_name(self) -> str:
        return self.village.currentText().split("（")[0]

    def refresh(self) -> None:
        current = self.village.currentData()
        self.village.blockSignals(True)
        self.village.clear()
        for v in self.ctx.registry.villages():
            self.village.addItem(f"{v.name}（{v.code}）", v.id)
        index = self.village.findData(current)
        self.village.setCurrentIndex(max(index, 0))
        self.village.blockSignals(False)
        self.load_current()

    def select_village(self, village_id: int) -> None:
        if self.village.findData(village_id) < 0:
            self.refresh()
        self.village.setCurrentIndex(max(self.village.findData(village_id), 0))

    def current_tab(self) -> _Tab:
        return self.parts[self.tabs.currentIndex()][1]

    def load_current(self) -> None:
        if self.village.currentData() is None or self._loading:
            return
        self._loading = True
        try:
            self.current_tab().load()
            for search in getattr(self.current_tab(), "searches", ()):
                search.apply()
        except DomainError as exc:
            self.show_error(exc)
        finally:
            self._loading = False

    def save_current(self) -> None:
        """Write the current tab; while another writer holds the database the save waits visibly (正在等待…)."""
        tab = self.current_tab()
        try:
            writes = tab.writes()
        except DomainError as exc:
            self._save_failed(tab, exc)
            return
        call_service(self, in_steps(*writes), lambda results: self._saved(tab, results),
                     lambda exc: self._save_failed(tab, exc))

    def _save_failed(self, tab: _Tab, exc: DomainError) -> None:
        """Shown where the user looks (the tab's message line, the cells marked); what was typed stays."""
        tab.show_problems(problems_of(exc))
        if isinstance(tab, EconomyTab) and isinstance(exc, ValidationFailed):
            tab.form.mark_problems(exc.problems)

    def _saved(self, tab: _Tab, results: list[object]) -> None:
        tab.after_save(results)
        if not tab.message.isVisible() or not tab.message.text() or "color: #c62828" in tab.message.styleSheet():
            tab.message.show_hint("已保存")
        self.load_current_after_save(tab)
        self.data_changed.emit()

    def load_current_after_save(self, tab: _Tab) -> None:
        """Re-read after saving so ids and computed columns are fresh (the economy tab keeps its warnings)."""
        if isinstance(tab, EconomyTab):
            tab.cooperatives.set_records([vars(c) for c in self.service.cooperatives(self.village_id, tab.year)])
            return
        message = tab.message.text()
        tab.load()
        for search in getattr(tab, "searches", ()):
            search.apply()
        if message == "已保存":
            tab.message.show_hint("已保存")

    def print_archive(self) -> None:
        if self.village.currentData() is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, "保存一村一档", f"{self.village_name()}一村一档.pdf", "PDF 文件 (*.pdf)")
        if path:
            try:
                write_archive(self.service, self.village_id, path)
            except DomainError as exc:
                self.show_error(exc)
                return
            show_pdf(self, path)
            announce_written(self, path, "一村一档", title="已生成", name="archive_done")

"""Dialogs for villages, households and people, with inline validation messages."""

from __future__ import annotations

import re
from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from townapp.core.errors import DomainError, FieldProblem
from townapp.core.idcard import IdNumberError, parse_id_number
from townapp.registry.dto import (
    HouseholdDTO,
    HouseholdInput,
    MemberInput,
    PartyInput,
    PersonDTO,
    PersonInput,
    VillageInput,
    VillageRow,
)
from townapp.registry.vocab import vocab
from townapp.ui.context import AppContext
from townapp.ui.widgets.fields import DateField, ErrorLabel, fill_combo, select_data

_ERROR_BACKGROUND = QColor("#ffcdd2")


class _FormDialog(QDialog):
    """A dialog whose fields each have an error line; ``show_problems`` routes messages."""

    def __init__(self, ctx: AppContext, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle(title)
        self.errors: dict[str, ErrorLabel] = {}
        self.general_error = ErrorLabel()
        self.saved_id: int | None = None
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setText("保存")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        self.busy_wait_seconds: float | None = None  # None: the default of ui.jobs (tests shorten it)
        self.waiting = None  # the Job retrying a save while the database is busy

    def add_row(self, form: QFormLayout, label: str, field: str, widget: QWidget) -> None:
        error = ErrorLabel()
        self.errors[field] = error
        box = QVBoxLayout()
        box.setSpacing(2)
        box.addWidget(widget)
        box.addWidget(error)
        form.addRow(label, box)

    def show_problems(self, problems: list[FieldProblem]) -> None:
        by_field: dict[str, list[FieldProblem]] = {}
        unplaced: list[FieldProblem] = []
        for problem in problems:
            if problem.field in self.errors:
                by_field.setdefault(problem.field, []).append(problem)
            else:
                unplaced.append(problem)
        for field, label in self.errors.items():
            label.show_problems(by_field.get(field, []))
        self.general_error.show_problems(unplaced)

    def save(self) -> None:
        """Check, then commit; every DomainError is shown in the dialog. While another writer (an
        import) holds the database, the save waits visibly (正在等待…) and retries in the background."""
        from townapp.ui.jobs import call_service

        try:
            problems = self.check()
            if not any(p.severity == "error" for p in problems):
                write = self.commit()
        except DomainError as exc:
            self._failed(exc)
            return
        if any(p.severity == "error" for p in problems):
            self.show_problems(problems)
            return
        self.buttons.setEnabled(False)
        self.waiting = call_service(self, write, self._saved, self._failed, seconds=self.busy_wait_seconds)

    def _saved(self, saved_id: int) -> None:
        self.saved_id = saved_id
        self.accept()

    def _failed(self, exc: DomainError) -> None:
        from townapp.ui.jobs import problems_of

        self.buttons.setEnabled(True)
        self.show_problems(problems_of(exc))

    def check(self) -> list[FieldProblem]:
        raise AssertionError("subclasses check their input")

    def commit(self) -> Callable[[], int]:
        """The service call that saves what was typed, read now: it may run on a worker thread while busy."""
        raise AssertionError("subclasses save their input")


def _split_groups(text: str) -> list[str]:
    return [part for part in re.split(r"[,，、;；\s]+", text) if part]


class VillageDialog(_FormDialog):
    def __init__(self, ctx: AppContext, village: VillageRow | None = None, parent: QWidget | None = None) -> None:
        super().__init__(ctx, "编辑村/社区" if village else "新增村/社区", parent)
        self.village = village
        self.code = QLineEdit(village.code if village else "")
        self.code.setPlaceholderText("12位区划代码")
        self.name = QLineEdit(village.name if village else "")
        self.kind = QComboBox()
        fill_combo(self.kind, vocab("village_kind").values)
        select_data(self.kind, village.kind if village else "村")
        self.groups = QLineEdit("、".join(village.groups) if village else "")
        self.groups.setPlaceholderText("如：一组、二组、三组")
        form = QFormLayout()
        self.add_row(form, "区划代码", "code", self.code)
        self.add_row(form, "名称", "name", self.name)
        self.add_row(form, "类别", "kind", self.kind)
        self.add_row(form, "村民小组", "groups", self.groups)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.general_error)
        layout.addWidget(self.buttons)

    def collect(self) -> VillageInput:
        return VillageInput(code=self.code.text(), name=self.name.text(), kind=self.kind.currentData(),
                            groups=_split_groups(self.groups.text()), id=self.village.id if self.village else None)

    def check(self) -> list[FieldProblem]:
        return self.ctx.registry.check_village(self.collect())

    def commit(self) -> Callable[[], int]:
        data = self.collect()
        return lambda: self.ctx.registry.save_village(data)


class PersonDialog(_FormDialog):
    """A person, and — when the 中共党员 box is ticked — their party membership."""

    def __init__(self, ctx: AppContext, person: PersonDTO | None = None, village_id: int | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(ctx, "编辑人员" if person else "新增人员", parent)
        self.person = person
        self.id_number = QLineEdit()
        self.id_number.setObjectName("id_number")
        self.id_number.setPlaceholderText("18位身份证号")
        self.id_number.setMaxLength(40)
        self.derived = ErrorLabel()
        self.name = QLineEdit()
        self.name.setObjectName("name")
        self.ethnicity = QComboBox()
        fill_combo(self.ethnicity, vocab("ethnicity").values)
        self.education = QComboBox()
        fill_combo(self.education, vocab("education").values, blank=True)
        self.phone = QLineEdit()
        self.village = QComboBox()
        self.village.addItem("（未指定）", None)
        for row in ctx.registry.villages():
            self.village.addItem(row.name, row.id)
        self.note = QLineEdit()

        form = QFormLayout()
        self.add_row(form, "身份证号", "id_number", self.id_number)
        form.addRow("", self.derived)
        self.add_row(form, "姓名", "name", self.name)
        self.add_row(form, "民族", "ethnicity", self.ethnicity)
        self.add_row(form, "文化程度", "education", self.education)
        self.add_row(form, "联系电话", "phone", self.phone)
        self.add_row(form, "所属村/社区", "village_id", self.village)
        self.add_row(form, "备注", "note", self.note)

        self.party_box = QGroupBox("中共党员")
        self.party_box.setCheckable(True)
        self.party_box.setChecked(False)
        party_form = QFormLayout(self.party_box)
        self.member_type = QComboBox()
        fill_combo(self.member_type, vocab("member_type").values)
        self.joined_on = DateField(month_precision=True)  # rosters often know only 1978.02
        self.confirmed_on = DateField(month_precision=True)
        self.branch = QComboBox()
        self.branch.addItem("", None)
        for branch in ctx.registry.branches():
            if branch.kind != "党小组":
                self.branch.addItem(branch.name, branch.id)
        self.party_post = QLineEdit()
        self.status = QComboBox()
        fill_combo(self.status, vocab("party_status").values)
        self.mobility = QComboBox()
        fill_combo(self.mobility, vocab("mobility").values)
        self.mobility_since = DateField(month_precision=True)
        self.destination = QLineEdit()
        self.points_category = QComboBox()
        fill_combo(self.points_category, vocab("points_category").values)
        self.duty_post = QLineEdit()
        for label, field, widget in (
            ("党员类别", "party.member_type", self.member_type), ("入党日期", "party.joined_on", self.joined_on),
            ("转正日期", "party.confirmed_on", self.confirmed_on), ("所在党组织", "party.branch_id", self.branch),
            ("党内职务", "party.party_post", self.party_post), ("党籍状态", "party.status", self.status),
            ("流动情况", "party.mobility", self.mobility), ("流动/失联日期", "party.mobility_since", self.mobility_since),
            ("流动去向", "party.destination", self.destination),
            ("积分管理类别", "party.points_category", self.points_category),
            ("设岗定责岗位", "party.duty_post", self.duty_post),
        ):
            self.add_row(party_form, label, field, widget)

        columns = QHBoxLayout()
        left = QWidget()
        left.setLayout(form)
        columns.addWidget(left, 1)
        columns.addWidget(self.party_box, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(columns)
        layout.addWidget(self.general_error)
        layout.addWidget(self.buttons)

        self.setMinimumWidth(760)
        self._live_check = QTimer(self, singleShot=True, interval=250)
        self._live_check.timeout.connect(self.validate_inline)
        self.id_number.textChanged.connect(self._on_id_changed)
        self._load(person, village_id)
        self.name.textChanged.connect(lambda _text: self._live_check.start())

    def _load(self, person: PersonDTO | None, village_id: int | None) -> None:
        select_data(self.village, person.village_id if person else village_id)
        if person is None:
            return
        self.id_number.setText(person.id_number)
        self.name.setText(person.name)
        select_data(self.ethnicity, person.ethnicity)
        select_data(self.education, person.education)
        self.phone.setText(person.phone or "")
        self.note.setText(person.note or "")
        party = person.party
        if party is not None:
            self.party_box.setChecked(True)
            select_data(self.member_type, party.member_type)
            self.joined_on.set_date(party.joined_on)
            self.confirmed_on.set_date(party.confirmed_on)
            select_data(self.branch, party.branch_id)
            self.party_post.setText(party.party_post or "")
            select_data(self.status, party.status)
            select_data(self.mobility, party.mobility)
            self.mobility_since.set_date(party.mobility_since)
            self.destination.setText(party.destination or "")
            select_data(self.points_category, party.points_category)
            self.duty_post.setText(party.duty_post or "")

    def _on_id_changed(self, text: str) -> None:
        try:
            info = parse_id_number(text)
        except IdNumberError:
            self.derived.show_hint("")
        else:
            self.derived.show_hint(f"出生日期 {info.birth_date:%Y-%m-%d}，性别 {info.sex}（由身份证号得出）")
        self._live_check.start()

    def done(self, result: int) -> None:
        self._live_check.stop()  # typed, then closed within the pause: no check after the dialog is gone
        super().done(result)

    def validate_inline(self) -> None:
        """Show what is wrong while typing, once the ID has its full length."""
        if not self.isVisible():
            return
        if len(self.id_number.text().strip()) < 18 and not self.id_number.text().strip() == "":
            return
        self.show_problems(self.check())

    def collect(self) -> tuple[PersonInput, list[FieldProblem]]:
        problems: list[FieldProblem] = []
        party = None
        if self.party_box.isChecked():
            dates = {}
            for name in ("joined_on", "confirmed_on", "mobility_since"):
                widget: DateField = getattr(self, name)
                problem = widget.problem(f"party.{name}")
                if problem:
                    problems.append(problem)
                    dates[name] = None
                else:
                    dates[name] = widget.date()
            party = PartyInput(
                member_type=self.member_type.currentData(), branch_id=self.branch.currentData(),
                party_post=self.party_post.text(), status=self.status.currentData(),
                mobility=self.mobility.currentData(), destination=self.destination.text(),
                points_category=self.points_category.currentData(), duty_post=self.duty_post.text(),
                status_date=self.person.party.status_date if self.person and self.person.party else None,
                **dates,
            )
        data = PersonInput(id_number=self.id_number.text(), name=self.name.text(),
                           ethnicity=self.ethnicity.currentData(), education=self.education.currentData(),
                           phone=self.phone.text(), village_id=self.village.currentData(), note=self.note.text(),
                           party=party, id=self.person.id if self.person else None)
        return data, problems

    def check(self) -> list[FieldProblem]:
        data, problems = self.collect()
        return problems + self.ctx.registry.check_person(data)

    def commit(self) -> Callable[[], int]:
        data = self.collect()[0]
        return lambda: self.ctx.registry.save_person(data)


class HouseholdDialog(_FormDialog):
    """A household and its members; members are people found or registered by ID number."""

    MEMBER_COLUMNS = ("姓名", "身份证号", "与户主关系", "联系电话")

    def __init__(self, ctx: AppContext, household: HouseholdDTO | None = None, village_id: int | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(ctx, "编辑住户" if household else "新增住户", parent)
        self.household = household
        self.resize(760, 520)
        self.village = QComboBox()
        self.village.setObjectName("village")
        for row in ctx.registry.villages():
            self.village.addItem(row.name, row.id)
        self.number = QLineEdit()
        self.number.setObjectName("number")
        self.group = QComboBox()
        self.address = QLineEdit()
        self.phone = QLineEdit()
        form = QFormLayout()
        self.add_row(form, "村/社区", "village_id", self.village)
        self.add_row(form, "户编号", "number", self.number)
        self.add_row(form, "村民小组", "group_id", self.group)
        self.add_row(form, "住址", "address", self.address)
        self.add_row(form, "联系电话", "phone", self.phone)

        self.members = QTableWidget(0, len(self.MEMBER_COLUMNS))
        self.members.setObjectName("members")
        self.members.setHorizontalHeaderLabels(list(self.MEMBER_COLUMNS))
        self.members.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.members.setColumnWidth(0, 110)
        self.members.setColumnWidth(2, 110)
        self.members.setColumnWidth(3, 130)
        self.member_errors = ErrorLabel()
        self.errors["members"] = self.member_errors
        add = QPushButton("添加成员")
        add.setObjectName("add_member")
        add.clicked.connect(lambda: self.add_member_row())
        remove = QPushButton("移除所选成员")
        remove.clicked.connect(self.remove_selected_member)
        member_buttons = QHBoxLayout()
        member_buttons.addWidget(add)
        member_buttons.addWidget(remove)
        member_buttons.addStretch(1)

        box = QGroupBox("家庭成员（同一人只登记一次：填写已登记人员的身份证号即可引用）")
        box_layout = QVBoxLayout(box)
        box_layout.addWidget(self.members)
        box_layout.addLayout(member_buttons)
        box_layout.addWidget(self.member_errors)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(box, 1)
        layout.addWidget(self.general_error)
        layout.addWidget(self.buttons)

        self.village.currentIndexChanged.connect(self._reload_groups)
        self._originals: list[PersonInput | None] = []
        self._load(household, village_id)

    def _reload_groups(self) -> None:
        current = self.group.currentData()
        self.group.clear()
        self.group.addItem("", None)
        village_id = self.village.currentData()
        if village_id is not None:
            for group_id, name in self.ctx.registry.village_groups(village_id):
                self.group.addItem(name, group_id)
        select_data(self.group, current)

    def _load(self, household: HouseholdDTO | None, village_id: int | None) -> None:
        select_data(self.village, household.village_id if household else village_id)
        self._reload_groups()
        if household is None:
            self.add_member_row(relation="户主")
            return
        self.number.setText(household.number)
        select_data(self.group, household.group_id)
        self.address.setText(household.address or "")
        self.phone.setText(household.phone or "")
        for person, relation in household.members:
            self.add_member_row(person.as_input(), relation)

    def add_member_row(self, person: PersonInput | None = None, relation: str = "") -> int:
        row = self.members.rowCount()
        self.members.insertRow(row)
        self.members.setItem(row, 0, QTableWidgetItem(person.name if person else ""))
        self.members.setItem(row, 1, QTableWidgetItem(person.id_number if person else ""))
        combo = QComboBox()
        fill_combo(combo, vocab("relation").values, blank=True)
        select_data(combo, vocab("relation").canonical(relation) if relation else None)
        self.members.setCellWidget(row, 2, combo)
        self.members.setItem(row, 3, QTableWidgetItem(person.phone or "" if person else ""))
        self._originals.append(person)
        return row

    def set_member(self, row: int, name: str, id_number: str, relation: str, phone: str = "") -> None:
        """Fill one member row (what a user types; tests drive the dialog through this too)."""
        self.members.item(row, 0).setText(name)
        self.members.item(row, 1).setText(id_number)
        select_data(self.members.cellWidget(row, 2), relation)
        self.members.item(row, 3).setText(phone)

    def remove_selected_member(self) -> None:
        row = self.members.currentRow()
        if row >= 0:
            self.members.removeRow(row)
            del self._originals[row]

    def collect(self) -> HouseholdInput:
        members = []
        for row in range(self.members.rowCount()):
            original = self._originals[row]
            name = self.members.item(row, 0).text()
            id_number = self.members.item(row, 1).text()
            phone = self.members.item(row, 3).text()
            relation = self.members.cellWidget(row, 2).currentData() or ""
            if original is not None and original.id_number == id_number:
                person = PersonInput(**{**original.__dict__, "name": name, "phone": phone})
            else:
                person = PersonInput(id_number=id_number, name=name, phone=phone)
            members.append(MemberInput(person, relation))
        return HouseholdInput(village_id=self.village.currentData(), number=self.number.text(), members=members,
                              group_id=self.group.currentData(), address=self.address.text(),
                              phone=self.phone.text(), id=self.household.id if self.household else None)

    def check(self) -> list[FieldProblem]:
        if self.village.currentData() is None:
            return [FieldProblem("village_id", "请先选择村/社区（没有村时请先在“村/社区”页新增）")]
        return self.ctx.registry.check_household(self.collect())

    def show_problems(self, problems: list[FieldProblem]) -> None:
        """Member problems colour their cells and are listed under the table with the member's row."""
        placed: list[FieldProblem] = []
        for row in range(self.members.rowCount()):
            for column in (0, 1, 3):
                self.members.item(row, column).setBackground(QColor(Qt.GlobalColor.white))
        columns = {"name": 0, "id_number": 1, "phone": 3}
        for problem in problems:
            match = re.match(r"members\[(\d+)\]\.(.+)", problem.field)
            if match:
                row, field = int(match.group(1)), match.group(2)
                column = columns.get(field)
                if column is not None and row < self.members.rowCount() and problem.severity == "error":
                    self.members.item(row, column).setBackground(_ERROR_BACKGROUND)
                placed.append(FieldProblem("members", f"第{row + 1}位成员：{problem.message}", problem.severity))
            else:
                placed.append(problem)
        super().show_problems(placed)

    def commit(self) -> Callable[[], int]:
        data = self.collect()
        return lambda: self.ctx.registry.save_household(data)

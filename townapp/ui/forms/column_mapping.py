"""The import wizard's 列对应 step: what a sheet is, and which of its columns is which field.

Each column of the user's sheet is a row here, with its first values beside it
and the field it maps to (editable; 不导入 leaves it out). The sheet's kind can
be changed too, or the sheet left out. What the person confirms goes back to the
pipeline as ``SheetMapping``s and, with a name, is saved as a layout that the
next file of the same layout uses by itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from townapp.exchange.normalize import norm_label
from townapp.exchange.recognise import SheetMapping, label_index
from townapp.exchange.report import SheetTaken
from townapp.exchange.spec import SheetSpec

SKIP = "（不导入）"
SKIP_SHEET = "（不导入这个工作表）"


@dataclass
class _SheetChoice:
    taken: SheetTaken
    entity: str | None
    columns: dict[str, str | None] = field(default_factory=dict)  # header text -> field key / None
    confirm: bool = False  # needs the person's word, or the person changed it: handed to the import


class ColumnMappingPanel(QWidget):
    """The 列对应 step's content; the wizard supplies the buttons."""

    HEADERS = ("表中的列", "前几行的内容", "对应字段")

    def __init__(self, specs: Sequence[SheetSpec], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.specs = list(specs)
        self.choices: dict[str, _SheetChoice] = {}
        self.intro = QLabel()
        self.intro.setWordWrap(True)
        self.sheet_combo = QComboBox()
        self.sheet_combo.setObjectName("mapping_sheet")
        self.entity_combo = QComboBox()
        self.entity_combo.setObjectName("mapping_entity")
        self.entity_combo.addItem(SKIP_SHEET, None)
        for spec in self.specs:
            self.entity_combo.addItem(spec.title, spec.key)
        self.table = QTableWidget(0, len(self.HEADERS))
        self.table.setObjectName("mapping_columns")
        self.table.setHorizontalHeaderLabels(list(self.HEADERS))
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("mapping_name")
        self.name_edit.setPlaceholderText("例如：东关村党员花名册（不填则只用于这一次）")
        form = QFormLayout()
        form.addRow("工作表：", self.sheet_combo)
        form.addRow("这是什么表：", self.entity_combo)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addLayout(form)
        layout.addWidget(self.table, 1)
        save = QFormLayout()
        save.addRow("保存为列对应（下次同样的表自动使用）：", self.name_edit)
        layout.addLayout(save)
        self.sheet_combo.currentIndexChanged.connect(lambda _i: self._show_sheet())
        self.entity_combo.currentIndexChanged.connect(lambda _i: self._entity_changed())

    # ----- filling -------------------------------------------------------------------------
    def load(self, sheets: dict[str, SheetTaken], needing: Sequence[str], suggested_name: str) -> None:
        """Show ``sheets`` (each as the import took it, or unrecognised); ``needing`` are the ones that must be confirmed."""
        self.choices = {}
        for name, taken in sheets.items():
            entity = taken.entity or None
            columns = {text: taken.used.get(text) for text in taken.texts if text}
            self.choices[name] = _SheetChoice(taken, entity, columns, name in needing)
        self.sheet_combo.blockSignals(True)
        self.sheet_combo.clear()
        ordered = [*needing, *[n for n in sheets if n not in needing]]
        for name in ordered:
            self.sheet_combo.addItem(f"{name}{'（需确认）' if name in needing else ''}", name)
        self.sheet_combo.blockSignals(False)
        if not self.name_edit.text():
            self.name_edit.setText(suggested_name)
        self.intro.setText("程序不能确定下面的工作表是什么数据，或者认不出其中的一些列。请逐列核对右边的“对应字段”："
                           "选错的改过来，用不上的选“不导入”。确认后点“按此对应重新检查”；"
                           "填写名称可保存这个列对应，下次导入同样格式的表时自动使用。")
        self._show_sheet()

    def _current(self) -> _SheetChoice | None:
        name = self.sheet_combo.currentData()
        return self.choices.get(name) if name is not None else None

    def _spec(self, key: str | None) -> SheetSpec | None:
        return next((spec for spec in self.specs if spec.key == key), None)

    def _show_sheet(self) -> None:
        choice = self._current()
        if choice is None:
            self.table.setRowCount(0)
            return
        self.entity_combo.blockSignals(True)
        index = self.entity_combo.findData(choice.entity)
        self.entity_combo.setCurrentIndex(max(index, 0))
        self.entity_combo.blockSignals(False)
        self._fill_columns(choice)

    def _entity_changed(self) -> None:
        choice = self._current()
        if choice is None:
            return
        choice.entity = self.entity_combo.currentData()
        choice.confirm = True
        spec = self._spec(choice.entity)
        labels = label_index(spec) if spec else {}
        # a new kind of sheet: each column mapped again by its header, as the import would
        choice.columns = {text: (labels[norm_label(text)].key if norm_label(text) in labels else None)
                          for text in choice.columns}
        self._fill_columns(choice)

    def _fill_columns(self, choice: _SheetChoice) -> None:
        spec = self._spec(choice.entity)
        texts = [(i, t) for i, t in enumerate(choice.taken.texts) if t]
        self.table.setRowCount(len(texts))
        for row, (index, text) in enumerate(texts):
            self.table.setItem(row, 0, QTableWidgetItem(text))
            sample = "、".join(choice.taken.samples.get(index, []))
            item = QTableWidgetItem(sample)
            item.setToolTip(sample)
            self.table.setItem(row, 1, item)
            combo = QComboBox()
            combo.addItem(SKIP, None)
            for column in spec.columns if spec else ():
                combo.addItem(column.header, column.key)
            combo.setCurrentIndex(max(combo.findData(choice.columns.get(text)), 0))
            combo.setEnabled(spec is not None)
            combo.currentIndexChanged.connect(lambda _i, t=text, c=combo: self._column_changed(t, c))
            self.table.setCellWidget(row, 2, combo)
        self.table.resizeColumnToContents(0)
        self.table.setColumnWidth(2, 180)

    def _column_changed(self, text: str, combo: QComboBox) -> None:
        choice = self._current()
        if choice is not None:
            choice.columns[text] = combo.currentData()
            choice.confirm = True

    # ----- for tests and the wizard -------------------------------------------------------------
    def choose_sheet(self, name: str) -> None:
        self.sheet_combo.setCurrentIndex(self.sheet_combo.findData(name))

    def choose_entity(self, key: str | None) -> None:
        self.entity_combo.setCurrentIndex(self.entity_combo.findData(key))

    def map_column(self, text: str, key: str | None) -> None:
        """Set the field of the column headed ``text`` (as a person picks it in the row's list)."""
        for row in range(self.table.rowCount()):
            item = self.table.item(row, 0)
            if item is not None and item.text() == text:
                combo = self.table.cellWidget(row, 2)
                assert isinstance(combo, QComboBox)
                combo.setCurrentIndex(combo.findData(key))
                return
        raise KeyError(text)

    def mappings(self) -> dict[str, SheetMapping]:
        """The person's decision per sheet, for the pipeline."""
        return {name: SheetMapping(choice.entity, dict(choice.columns), choice.taken.header_row)
                for name, choice in self.choices.items() if choice.confirm}

    def layout_name(self) -> str | None:
        return self.name_edit.text().strip() or None

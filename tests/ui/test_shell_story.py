"""Stories of the window shell: one title per window, Qt's own dialogs in Chinese, 字号 for older eyes.

Offscreen, after the real set-up (``app`` fixture → setup_application). Qt's file dialog is its own
non-native one here, as on a Linux desktop without a platform theme — the one that showed English.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QFileDialog,
    QGroupBox,
    QInputDialog,
    QLabel,
    QMessageBox,
    QPushButton,
    QTreeView,
    QWidget,
)

from townapp import APP_TITLE, config
from townapp.ui import fontsize
from townapp.ui.app import setup_application

ENGLISH_WORD = re.compile(r"[A-Za-z]{4,}")
FILE_PATTERN = re.compile(r"\*\.\w+")  # 文件类型 lists *.xlsx: a pattern, not a word
ALLOWED = {"Excel"}  # the program the clerk knows by that name (the app's own 文件类型 says "Excel 工作簿")


def visible_texts(dialog: QWidget) -> list[str]:
    """What a user reads in ``dialog``: its title, labels, buttons, group titles, menus' actions, header
    labels and the choices of its lists — not the user's own file and folder names."""
    texts = [dialog.windowTitle()]
    for widget in dialog.findChildren(QWidget):
        if not widget.isVisibleTo(dialog):
            continue
        if isinstance(widget, (QLabel, QAbstractButton)):
            texts.append(widget.text())
        elif isinstance(widget, QGroupBox):
            texts.append(widget.title())
        elif isinstance(widget, QComboBox) and widget.objectName() not in ("lookInCombo", "printers"):  # paths, names
            texts += [FILE_PATTERN.sub("", widget.itemText(i)) for i in range(widget.count())]
        elif isinstance(widget, QTreeView) and widget.model() is not None:
            model = widget.model()
            texts += [str(model.headerData(c, Qt.Orientation.Horizontal) or "") for c in range(model.columnCount())]
        texts += [action.text() for action in widget.actions()]
    return texts


def english_words(texts: list[str]) -> list[str]:
    return sorted({word for text in texts for word in ENGLISH_WORD.findall(text)} - ALLOWED)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A folder as a clerk's USB stick looks: a sub-folder and a few files."""
    (tmp_path / "二季度").mkdir()
    for name in ("临晋镇_2026年第2季度_同步数据包.xlsx", "花名册.xls", "报表.pdf"):
        (tmp_path / name).write_bytes(b"0" * 2048)
    return tmp_path


def open_file_dialog(qtbot, folder: Path, mode: QFileDialog.AcceptMode) -> QFileDialog:  # noqa: ANN001
    dialog = QFileDialog(None, "", str(folder), "Excel 工作簿 (*.xlsx *.xls)")
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
    dialog.setAcceptMode(mode)
    dialog.setViewMode(QFileDialog.ViewMode.Detail)
    qtbot.addWidget(dialog)
    dialog.show()
    view = dialog.findChild(QTreeView, "treeView")
    # the folder is read: its sub-folder and the two workbooks (the PDF is not of the chosen type)
    qtbot.waitUntil(lambda: view.model().rowCount(view.rootIndex()) == 3, timeout=10_000)
    return dialog


@pytest.mark.parametrize("mode", [QFileDialog.AcceptMode.AcceptSave, QFileDialog.AcceptMode.AcceptOpen])
def test_qts_file_dialog_speaks_chinese(app: QApplication, qtbot, folder: Path,  # noqa: ANN001
                                        mode: QFileDialog.AcceptMode) -> None:
    # GIVEN the application set up as at start-up
    # WHEN Qt's own file dialog opens on a folder, in the detail view
    dialog = open_file_dialog(qtbot, folder, mode)
    texts = visible_texts(dialog)
    # THEN no English word is on it: 查找范围, 文件类型, the columns 名称 大小 类型 修改日期
    assert english_words(texts) == []
    assert "查找范围(&L)：" in texts and "文件类型(&T)：" in texts
    view = dialog.findChild(QTreeView, "treeView")
    model, root = view.model(), view.rootIndex()
    assert [model.headerData(c, Qt.Orientation.Horizontal) for c in range(4)] == ["名称", "大小", "类型", "修改日期"]
    # AND the rows say 文件夹 for the folder and sizes in 字节/KiB, not "Folder" and "bytes"
    rows = {model.index(r, 0, root).data(): [model.index(r, c, root).data() for c in range(1, 4)]
            for r in range(model.rowCount(root))}
    assert rows["二季度"][1] == "文件夹"
    assert all(not ENGLISH_WORD.search(row[0]) and not ENGLISH_WORD.search(row[2]) for row in rows.values())
    dialog.close()


def test_message_input_and_print_dialogs_speak_chinese(app: QApplication, qtbot) -> None:  # noqa: ANN001
    # GIVEN a message box with every standard button the app uses and more, an input box, and the print
    # dialog certificates are printed through (its options shown)
    buttons = QMessageBox.StandardButton
    box = QMessageBox(QMessageBox.Icon.Question, "请确认", "确定吗？",
                      buttons.Ok | buttons.Cancel | buttons.Yes | buttons.No | buttons.Save | buttons.Open
                      | buttons.Close | buttons.Discard | buttons.Apply | buttons.Reset | buttons.Retry
                      | buttons.Ignore | buttons.Abort | buttons.Help | buttons.YesToAll | buttons.NoToAll)
    box.setDetailedText("详细说明")
    item_box = QInputDialog()
    item_box.setComboBoxItems(["东张村", "西关村"])
    printer = QPrinter()  # kept: the dialog holds a pointer to it
    print_dialog = QPrintDialog(printer)
    for dialog in (box, item_box, print_dialog):
        qtbot.addWidget(dialog)
        dialog.show()
    next(b for b in print_dialog.findChildren(QPushButton) if b.text().startswith("选项")).click()
    # THEN every button and label on them is Chinese
    assert english_words(visible_texts(box)) == []
    assert english_words(visible_texts(item_box)) == []
    assert english_words(visible_texts(print_dialog)) == []
    assert {b.text() for b in box.buttons()} >= {"确定", "取消", "保存", "打开", "关闭"}


def test_every_window_shows_its_own_title_once(open_demo_window, qtbot) -> None:  # noqa: ANN001
    # GIVEN the real window on the demo township
    window = open_demo_window("small", seed=11)
    # THEN Qt adds nothing to window titles (an application display name would be appended to every one)
    assert QApplication.applicationDisplayName() == ""
    # AND the main window names the app once, with the township
    assert window.windowTitle() == f"{APP_TITLE} — 临晋镇"
    # AND a dialog shows only its own title
    box = QMessageBox(QMessageBox.Icon.Information, "已完成", "已保存。", QMessageBox.StandardButton.Ok, window)
    qtbot.addWidget(box)
    box.show()
    assert box.windowTitle() == "已完成"


@pytest.fixture
def standard_size_after(app: QApplication) -> Iterator[None]:
    """The app font back at 标准 after the test (one QApplication serves the whole session)."""
    yield
    fontsize.apply_font_size(app, fontsize.DEFAULT)


def test_a_larger_font_size_applies_to_the_whole_window_and_is_remembered(
        app: QApplication, open_demo_window, qtbot, standard_size_after) -> None:  # noqa: ANN001
    # GIVEN the window at 标准
    window = open_demo_window("small", seed=11)
    window.load_deferred_pages()
    base = fontsize.base_point_size(app)
    assert app.font().pointSize() == base and window.nav.width() == 150
    dashboard = window.page("首页")
    assert "font-size: 18px" in dashboard.heading.styleSheet()
    # WHEN the clerk picks 视图 → 字号 → 特大
    view_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "视图(&V)")
    size_menu = next(a.menu() for a in view_menu.actions() if a.text() == "字号(&Z)")
    next(a for a in size_menu.actions() if a.text() == "特大").trigger()
    # THEN the whole window's text is half as large again: the app font, the pixel-sized headings, the list
    assert app.font().pointSize() == round(base * 1.5)
    assert window.font().pointSize() == round(base * 1.5)
    assert window.page("人员/党员").font().pointSize() == round(base * 1.5)
    assert "font-size: 27px" in dashboard.heading.styleSheet()
    assert window.nav.width() == 225
    # AND it is remembered in the settings file
    saved = json.loads((config.data_dir() / "settings.json").read_text(encoding="utf-8"))
    assert saved[fontsize.SETTING_KEY] == "特大"
    # WHEN the program starts again
    fontsize.apply_font_size(app, fontsize.DEFAULT)  # as a new process starts: at 标准
    setup_application()
    again = open_demo_window("small", seed=11)
    # THEN it opens at 特大, with 特大 ticked in the menu
    assert app.font().pointSize() == round(base * 1.5)
    assert again.font_size_actions["特大"].isChecked() and again.nav.width() == 225
    # AND pages built after the start (the deferred ones) come at 特大 too
    again.load_deferred_pages()
    assert "font-size: 27px" in again.page("首页").heading.styleSheet()
    # WHEN the clerk goes back to 标准 THEN the headings return to the size they were written with
    again.set_font_size("标准")
    assert app.font().pointSize() == base
    assert "font-size: 18px" in dashboard.heading.styleSheet()
    assert "font-size: 18px" in again.page("首页").heading.styleSheet()

"""Story: a township clerk who reads no English finds none on any page or in any dialog.

The walk opens every page of the real window (as the administrator, who sees every
button, and as a village clerk), reads every text a person can see — window titles,
menus, labels, buttons, tabs, list headers and the first rows of every list, combo
items, placeholders — then presses every button of the page. Whatever window a
button opens (a form, a confirmation, Qt's own file dialog, a completion box) is
read the same way and closed without saying yes, so nothing is changed for real.
It fails on any ASCII word of four letters or more outside a short allow-list
(file names, paths and a few product names are not words a user has to read).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QTextDocumentFragment
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QApplication,
    QComboBox,
    QDialog,
    QGroupBox,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QTabBar,
    QTextEdit,
    QWidget,
)
from sqlalchemy import select

from tests.ui.walk import settle, tab_by_tab
from townapp.core.actor import ROLE_ADMIN, ROLE_VILLAGE, Actor
from townapp.registry.models import Village
from townapp.ui.app import open_main_window

# product names, file types, and the keys of keyboard shortcuts as every Chinese program writes them (Ctrl+S)
ALLOWED = frozenset({"Excel", "WPS", "xlsx", "xlsm", "Windows", "Linux", "townapp", "Ctrl", "Shift", "Enter", "Home",
                     "Space", "Delete", "Backspace"})
_PATH = re.compile(r"(?:[A-Za-z]:)?(?:[\\/][^\s，。：；、（）()“”]+)+")
_PATTERN = re.compile(r"\*\.[A-Za-z0-9]+")  # a file type's pattern (图片 (*.jpeg *.tiff))
_FILE = re.compile(r"[^\s，。：；、（）()“”]+\.(?:xlsx|xlsm|xls|ods|pdf|db|png|txt|json|csv|qm|deb|exe)\b", re.I)
_WORD = re.compile(r"[A-Za-z]{4,}")
# buttons that end the session or the window: the walk must go on
SKIPPED_BUTTONS = frozenset({"退出", "退出登录", "注销", "切换用户"})
ROWS_READ = 30
# Qt's file dialog: the folders and files on the machine (their names are the user's, not the program's)
FOLDER_CONTENTS = frozenset({"sidebar", "listView", "treeView", "lookInCombo", "fileNameEdit"})
MAX_BUTTONS = 200


def english_words(text: str) -> list[str]:
    """The ASCII words of 4+ letters a person would have to read in ``text`` (paths, file names, allowed names out)."""
    text = _FILE.sub(" ", _PATH.sub(" ", _PATTERN.sub(" ", text)))
    return [w for w in _WORD.findall(text) if w not in ALLOWED]


def _plain(text: str) -> str:
    return QTextDocumentFragment.fromHtml(text).toPlainText() if "<" in text else text


def _menu_texts(menu: QMenu) -> Iterator[str]:
    for action in menu.actions():
        yield action.text()
        if action.menu() is not None:
            yield from _menu_texts(action.menu())


def visible_texts(root: QWidget) -> Iterator[tuple[str, str]]:
    """(where, text) of everything a person can read in ``root`` and its visible children."""
    yield f"{type(root).__name__} 标题", root.windowTitle()
    for widget in [root, *root.findChildren(QWidget)]:
        if not widget.isVisible() or widget.objectName() in FOLDER_CONTENTS:
            continue
        where = f"{type(widget).__name__} {widget.objectName()!r}"
        if isinstance(widget, QLabel):
            yield where, _plain(widget.text())
        elif isinstance(widget, QAbstractButton):
            yield where, widget.text()
        elif isinstance(widget, QGroupBox):
            yield where, widget.title()
        elif isinstance(widget, QLineEdit):
            yield where, widget.placeholderText()
        elif isinstance(widget, QComboBox):
            for i in range(widget.count()):
                yield where, widget.itemText(i)
        elif isinstance(widget, QTabBar):
            for i in range(widget.count()):
                yield where, widget.tabText(i)
        elif isinstance(widget, (QTextEdit, QPlainTextEdit)):
            yield where, widget.toPlainText()
        elif isinstance(widget, QMenu):
            yield from ((where, t) for t in _menu_texts(widget))
        if isinstance(widget, QAbstractItemView) and widget.model() is not None:
            model = widget.model()
            try:
                columns = model.columnCount()
            except TypeError:  # a list model's column count is private: it has one
                columns = 1
            for column in range(columns):
                yield where + " 表头", str(model.headerData(column, Qt.Orientation.Horizontal) or "")
            for row in range(min(model.rowCount(), ROWS_READ)):
                for column in range(columns):
                    value = model.data(model.index(row, column))
                    if isinstance(value, str):
                        yield where, value


class DialogReader:
    """Reads and closes (without saying yes) every window that opens while a button is pressed."""

    def __init__(self, found: Callable[[str, str], None]) -> None:
        self.found = found
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self.check)

    def check(self) -> None:
        for window in QApplication.topLevelWidgets():
            if not window.isVisible() or type(window).__name__ in ("MainWindow", "QMenu") \
                    or window.windowType() == Qt.WindowType.ToolTip:
                continue
            if not window.property("walk_read"):  # read once, closed every time it is seen
                window.setProperty("walk_read", True)
                for where, text in visible_texts(window):
                    self.found(f"{type(window).__name__}“{window.windowTitle()}” {where}", text)
            if isinstance(window, QMessageBox):
                window.reject() if window.escapeButton() or window.defaultButton() else window.close()
            elif isinstance(window, QDialog):
                window.reject()
            else:
                window.close()


@pytest.mark.parametrize("role", [ROLE_ADMIN, ROLE_VILLAGE])
def test_no_english_on_any_page_or_dialog(role: str, open_demo, app, qtbot) -> None:  # noqa: ANN001
    # GIVEN the small demo township, opened by a user of this role (a clerk of its first village)
    db = open_demo("small", 11)
    with db.reader() as session:
        first_village = session.scalars(select(Village.id).order_by(Village.id)).first()
    actor = Actor(f"{role}甲", role, first_village if role == ROLE_VILLAGE else None)
    main = open_main_window(db, actor)
    qtbot.addWidget(main)
    main.show()
    english: dict[str, str] = {}

    def found(where: str, text: str) -> None:
        for word in english_words(text or ""):
            english.setdefault(f"{where}: {word}", text[:120])

    reader = DialogReader(found)
    reader.timer.start()
    try:
        for where, text in visible_texts(main):
            found(f"主窗口 {where}", text)
        for text in _menu_texts_of(main):
            found("菜单", text)
        for page in main.pages:
            # WHEN the page is opened and every button on it pressed
            main.open_page(page.title)
            settle(qtbot)
            for where, text in visible_texts(page):
                found(f"“{page.title}” {where}", text)
            pressed: set[tuple[str, str]] = set()
            for view in tab_by_tab(page, qtbot):
                for where, text in visible_texts(page):
                    found(f"“{page.title}”（{view}） {where}", text)
                for index in range(MAX_BUTTONS):
                    buttons = page.findChildren(QAbstractButton)  # afresh: a press may rebuild part of the page
                    if index >= len(buttons):
                        break
                    button = buttons[index]
                    key = (button.text(), button.objectName())
                    if not (button.isVisible() and button.isEnabled()) or button.text() in SKIPPED_BUTTONS \
                            or button.isCheckable() or key in pressed:
                        continue  # a toggle changes what the page shows; the page is read as it opened
                    pressed.add(key)
                    button.click()
                    settle(qtbot)
                    reader.check()
                    for where, text in visible_texts(page):
                        found(f"“{page.title}”（按“{button.text()}”后） {where}", text)
        for action in _menu_actions(main):  # 用户手册, 关于 …: the windows the menus open
            if action.menu() is None and not action.isCheckable() and "退出" not in action.text():
                action.trigger()
                settle(qtbot)
                reader.check()
    finally:
        reader.timer.stop()
        reader.check()
    # THEN no English word is anywhere a person looks
    assert not english, "界面上的英文：\n" + "\n".join(f"{k}  ←  {v}" for k, v in sorted(english.items()))


def _menu_texts_of(main: QWidget) -> Iterator[str]:
    bar = main.menuBar()  # type: ignore[attr-defined]
    for action in bar.actions():
        yield action.text()
        if action.menu() is not None:
            yield from _menu_texts(action.menu())


def test_the_word_check_reads_paths_and_file_names_as_no_words() -> None:
    assert english_words("已保存：/tmp/x/临晋镇_同步数据包.xlsx") == []
    assert english_words("C:\\Users\\me\\Desktop\\表.xlsx 已写入") == []
    assert english_words("Look in: 文件夹") == ["Look"]
    assert english_words("id_number_cell") == ["number", "cell"]


def _menu_actions(main: QWidget) -> Iterator[QAction]:
    def walk(menu: QMenu) -> Iterator[QAction]:
        for action in menu.actions():
            yield action
            if action.menu() is not None:
                yield from walk(action.menu())
    for action in main.menuBar().actions():  # type: ignore[attr-defined]
        if action.menu() is not None:
            yield from walk(action.menu())

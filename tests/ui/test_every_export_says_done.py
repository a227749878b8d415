"""Story: whatever a clerk exports or prints, the app ends by saying where the file went.

The walk presses every button on every page whose words say it writes a file
(导出, 打印, 另存, 保存…PDF/图片/表, 备份到, 生成PDF), answers the save dialog with
a folder of the test's own, says yes to a confirmation and types a package's
password; it then expects the completion box (the file named, with
打开所在文件夹) — or, where the page had nothing to write, a Chinese reason.
A button that writes a file and then says nothing fails the story.
"""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QAbstractButton, QApplication, QDialog, QFileDialog, QLineEdit, QMessageBox

from tests.ui.walk import settle, tab_by_tab
from townapp.core.actor import DEMO_ACTOR
from townapp.ui.app import open_main_window

WRITES_A_FILE = re.compile(r"导出|打印|另存|备份到|生成PDF|保存(图片|图表|为)|PDF|发放表")
NOT_A_FILE = re.compile(r"打印机|套打|校准|导出设置|打印记录|^打印…$|编辑规则")  # 打印…: to paper, through the system's printer dialog
PREPARES = "生成预览"  # exports that write what the preview showed wait for it
SKIPPED_PAGES = frozenset()


class Answerer:
    """Answers the windows an export opens: the save dialog, a confirmation, a password; notes what ends it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.done: list[str] = []  # completion boxes seen (their text)
        self.refused: list[str] = []  # other messages (a reason the export could not be made)
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self.answer)

    def answer(self) -> None:
        for window in QApplication.topLevelWidgets():
            if not window.isVisible() or type(window).__name__ in ("MainWindow", "QMenu"):
                continue
            if isinstance(window, QFileDialog):
                self._file_dialog(window)
            elif isinstance(window, QMessageBox):
                self._message(window)
            elif isinstance(window, QDialog):
                if window.objectName() == "pdf_preview":
                    window.accept()
                    continue
                for edit in window.findChildren(QLineEdit):  # a package's password, typed twice
                    if edit.echoMode() != QLineEdit.EchoMode.Normal:
                        edit.setText("Ceshi2026")
                window.accept()
                if window.isVisible():
                    window.reject()

    def _file_dialog(self, dialog: QFileDialog) -> None:
        if dialog.acceptMode() != QFileDialog.AcceptMode.AcceptSave and \
                dialog.fileMode() != QFileDialog.FileMode.Directory:
            dialog.reject()  # an import: not what this walk is about
            return
        if dialog.fileMode() == QFileDialog.FileMode.Directory:
            dialog.setDirectory(str(self.folder))
            dialog.selectFile(str(self.folder))
        else:
            names = dialog.selectedFiles()
            name = Path(names[0]).name if names and Path(names[0]).name else "输出.xlsx"
            dialog.selectFile(str(self.folder / name))
        dialog.accept()

    def _message(self, box: QMessageBox) -> None:
        if box.findChild(QAbstractButton, "open_folder") is not None or "已写入" in box.text():
            self.done.append(box.text())
            box.done(0)
            return
        yes = box.button(QMessageBox.StandardButton.Yes) or box.button(QMessageBox.StandardButton.Ok)
        if box.icon() in (QMessageBox.Icon.Question,) and yes is not None:
            yes.click()
            return
        self.refused.append(box.text())
        box.done(0)


def test_every_export_and_print_ends_with_the_file_named(open_demo, app, qtbot, tmp_path) -> None:  # noqa: ANN001
    # GIVEN the small demo township opened by its administrator, and a folder for what is written
    main = open_main_window(open_demo("small", 11), DEMO_ACTOR)
    qtbot.addWidget(main)
    main.show()
    answerer = Answerer(tmp_path)
    answerer.timer.start()
    silent: list[str] = []
    pressed_any = []
    try:
        for page in main.pages:
            if page.title in SKIPPED_PAGES:
                continue
            main.open_page(page.title)
            settle(qtbot)
            for button in page.findChildren(QAbstractButton):
                if button.text() == PREPARES and button.isVisible() and button.isEnabled():
                    button.click()
                    settle(qtbot)
            seen: set[str] = set()
            for _view in tab_by_tab(page, qtbot):
                for index in range(200):
                    buttons = page.findChildren(QAbstractButton)
                    if index >= len(buttons):
                        break
                    button = buttons[index]
                    text = button.text()
                    if not (button.isVisible() and button.isEnabled()) or text in seen or button.isCheckable() \
                            or not WRITES_A_FILE.search(text) or NOT_A_FILE.search(text):
                        continue
                    seen.add(text)
                    # WHEN the button is pressed and its questions answered
                    done, refused = len(answerer.done), len(answerer.refused)
                    button.click()
                    settle(qtbot)
                    answerer.answer()
                    settle(qtbot)
                    answerer.answer()
                    pressed_any.append(f"{page.title}/{text}")
                    # THEN it ends by naming the file (or says in Chinese why nothing was written)
                    if len(answerer.done) == done and len(answerer.refused) == refused:
                        silent.append(f"“{page.title}”的“{text}”")
    finally:
        answerer.timer.stop()
    assert pressed_any, "没有找到任何导出或打印按钮"
    assert not silent, "导出或打印后没有提示：\n" + "\n".join(silent)
    assert answerer.done, "没有出现任何完成提示"

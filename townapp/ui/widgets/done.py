"""How every export and print ends: a message naming the file, 打开所在文件夹, and a PDF that opens.

A township clerk working alone must never wonder whether a 21-second export did
anything, or where its file went. So every path that writes a file ends here:
``announce_written`` says what was written where, offers to open the folder,
and, when the file is on a USB drive, says the drive may now be removed.
``show_pdf`` hands a PDF to the system viewer and, where the machine has none
(many 麒麟/UOS installs), opens the in-app preview instead of doing nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QDialog, QMessageBox, QPushButton, QVBoxLayout, QWidget

from townapp.db.safety import REMOVABLE, location_kind

OPEN_FOLDER = "打开所在文件夹"
REMOVABLE_NOTE = "文件在U盘上，现在可以安全地拔出U盘（建议先在系统中点“弹出”）。"


def on_removable_drive(path: Path) -> bool:
    try:
        return location_kind(path.parent) == REMOVABLE
    except OSError:
        return False


def open_folder(path: Path) -> bool:
    """The folder holding ``path`` in the system's file manager."""
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(path.parent)))


def written_message(path: Path, what: str, detail: str = "") -> str:
    """The text of the completion box: what, where, anything more, and the USB note when it applies."""
    lines = [f"{what}已保存：{path}"]
    if detail:
        lines.append(detail)
    if on_removable_drive(path):
        lines.append(REMOVABLE_NOTE)
    return "\n".join(lines)


def announce_written(parent: QWidget | None, path: Path | str, what: str = "文件", *, title: str = "已完成",
                     detail: str = "", name: str = "file_done") -> QMessageBox:
    """A box that names the written file and offers 打开所在文件夹; not modal, so the page goes on.

    ``what``: the kind of file in Chinese (导入模板, 季度报表, 证书PDF…); ``detail``: a further line
    (rows written, pages printed). The box is named ``name`` (tests find it by this name)."""
    path = Path(path)
    box = QMessageBox(QMessageBox.Icon.Information, title, written_message(path, what, detail),
                      QMessageBox.StandardButton.Ok, parent)
    box.setObjectName(name)
    folder = box.addButton(OPEN_FOLDER, QMessageBox.ButtonRole.ActionRole)
    folder.setObjectName("open_folder")
    # an ActionRole button would close the box: it opens the folder and the box stays until 确定
    folder.clicked.disconnect()
    folder.clicked.connect(lambda: open_folder(path))
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box


# ----- PDFs ------------------------------------------------------------------------------
def system_pdf_viewer() -> bool:
    """Whether the system has a program that opens PDFs (Windows and macOS ship one)."""
    if sys.platform.startswith("win") or sys.platform == "darwin":
        return True
    if os.environ.get("TOWNAPP_NO_PDF_VIEWER"):  # tests: a machine without one
        return False
    if shutil.which("xdg-open") is None or shutil.which("xdg-mime") is None:
        return False
    try:
        found = subprocess.run(["xdg-mime", "query", "default", "application/pdf"], capture_output=True,
                               text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return False
    return found.returncode == 0 and bool(found.stdout.strip())


class PdfPreviewDialog(QDialog):
    """The in-app viewer for a machine without a PDF program: pages, zoom to fit, 打印 from the page."""

    def __init__(self, parent: QWidget | None, path: Path) -> None:
        from PySide6.QtPdf import QPdfDocument
        from PySide6.QtPdfWidgets import QPdfView

        super().__init__(parent)
        self.setObjectName("pdf_preview")
        self.setWindowTitle(f"预览：{path.name}")
        self.resize(820, 900)
        self.document = QPdfDocument(self)
        self.document.load(str(path))
        self.view = QPdfView()
        self.view.setDocument(self.document)
        self.view.setPageMode(QPdfView.PageMode.MultiPage)
        self.view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        folder = QPushButton(OPEN_FOLDER)
        folder.clicked.connect(lambda: open_folder(path))
        close = QPushButton("关闭")
        close.clicked.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view, 1)
        for button in (folder, close):
            layout.addWidget(button)


def show_pdf(parent: QWidget | None, path: Path | str) -> QWidget | None:
    """Open a written PDF: in the system's viewer if there is one, else in the in-app preview.

    Returns the preview dialog when it was used (tests), None when the system viewer took it."""
    path = Path(path)
    if system_pdf_viewer() and QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))):
        return None
    dialog = PdfPreviewDialog(parent, path)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog

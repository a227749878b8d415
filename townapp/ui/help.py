"""帮助 → 用户手册: the manual's chapters in a contents list, the chosen one beside it.

Not modal: the clerk keeps it open next to the page they are working on. F1 in the main window
opens it at the chapter of the page on screen (townapp/manual.py finds it by the page's title).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QUrl
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from townapp import manual
from townapp.ui import fontsize

CONTENTS_WIDTH = 170
IMAGE_WIDTH = 820  # screenshots are 1200 wide: smaller than this and their text blurs


class HelpWindow(QWidget):
    """The manual: contents on the left, the chapter on the right, a button for the PDF."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # a window of its own (parented so it closes with the main window), never modal
        self.setWindowFlags(Qt.WindowType.Window)
        self.setWindowTitle("用户手册")
        self.chapters = manual.chapters()
        self.contents = QListWidget()
        self.contents.setObjectName("manual_contents")
        self.contents.addItems([chapter.title for chapter in self.chapters])
        self.browser = QTextBrowser()
        self.browser.setObjectName("manual_text")
        self.browser.setOpenExternalLinks(False)
        self.browser.setSearchPaths([str(manual.manual_dir())])
        self.contents.currentRowChanged.connect(self._show_row)
        save_pdf = QPushButton("另存为PDF…")
        save_pdf.setToolTip("把整本手册保存为PDF文件，可以打印出来放在手边")
        save_pdf.clicked.connect(self.save_pdf)
        hint = QLabel("在任何页面按 F1，都会打开该页的说明。")
        splitter = QSplitter()
        splitter.addWidget(self.contents)
        splitter.addWidget(self.browser)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([round(CONTENTS_WIDTH * fontsize.current_factor()), IMAGE_WIDTH + 40])
        bottom = QHBoxLayout()
        bottom.addWidget(hint, 1)
        bottom.addWidget(save_pdf)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addLayout(bottom)
        self.resize(CONTENTS_WIDTH + IMAGE_WIDTH + 90, 700)

    @property
    def current_title(self) -> str:
        row = self.contents.currentRow()
        return self.chapters[row].title if 0 <= row < len(self.chapters) else ""

    def show_chapter_for(self, page_title: str) -> None:
        """The chapter of ``page_title``; the first chapter (开始使用) when the page has none."""
        chapter = manual.chapter_for(page_title)
        row = self.chapters.index(chapter) if chapter in self.chapters else 0
        if self.contents.currentRow() == row:
            self._show_row(row)
        else:
            self.contents.setCurrentRow(row)

    def _show_row(self, row: int) -> None:
        if 0 <= row < len(self.chapters):
            self.browser.document().setBaseUrl(QUrl.fromLocalFile(str(manual.manual_dir()) + "/"))
            self.browser.setHtml(manual.chapter_html(self.chapters[row], image_width=IMAGE_WIDTH))

    def save_pdf(self) -> None:
        """The whole manual as a PDF, where the clerk chooses; ends with the usual completion message."""
        from PySide6.QtWidgets import QFileDialog, QMessageBox

        from townapp.core.errors import DomainError
        from townapp.ui.widgets.done import announce_written

        path, _ = QFileDialog.getSaveFileName(self, "保存用户手册", manual.PDF_NAME, "PDF 文件 (*.pdf)")
        if not path:
            return
        try:
            written = manual.write_manual_pdf(path)
        except DomainError as error:
            QMessageBox.warning(self, "没有保存", error.message)
            return
        announce_written(self, written, "用户手册")

"""Stories of the user manual: every page has its chapter and a screenshot taken from the real window,
F1 opens the chapter of the page on screen, and the whole manual prints as a PDF in the bundled font.

The screenshots are made here, on the small demo township, so the manual never shows a screen that no
longer exists: each page's picture goes to resources/manual/images/ (shipped with the program, shown in
the help window and the PDF) and to docs/screenshots/.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pypdf import PdfReader
from PySide6.QtCore import Qt, QThreadPool, QUrl
from PySide6.QtGui import QImage, QTextDocument
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox, QPushButton

from townapp import manual

ROOT = Path(__file__).resolve().parents[2]
DOCS_SHOTS = ROOT / "docs" / "screenshots"
SHOT_SIZE = (1200, 760)


@pytest.fixture
def window(open_demo_window):  # noqa: ANN001, ANN201
    """The small demo township (3 villages, seed 11) at the size the manual's pictures are taken."""
    main = open_demo_window("small", seed=11)
    main.resize(*SHOT_SIZE)
    main.load_deferred_pages()
    main.db_label.setText("数据库：演示数据库（临晋镇）")  # not the test's temporary path, which changes every run
    return main


def settle(qtbot, window, page) -> None:  # noqa: ANN001
    """The page shows its data: a background load has announced it and the thread pool is idle."""
    if page.loads_in_background:
        shown: list[bool] = []
        page.data_shown.connect(lambda: shown.append(True))
        page.refresh()
        qtbot.waitUntil(lambda: bool(shown), timeout=60_000)
    qtbot.waitUntil(lambda: QThreadPool.globalInstance().activeThreadCount() == 0, timeout=60_000)
    QApplication.processEvents()


def test_every_page_has_a_chapter_and_its_screenshot_is_taken_from_the_real_window(window, qtbot) -> None:  # noqa: ANN001
    # GIVEN the real window with every page built, and the manual's chapters
    titles = [page.title for page in window.pages]
    # THEN every navigation page has a chapter of its own
    assert [title for title in titles if manual.chapter_for(title) is None] == []
    images = manual.manual_dir() / manual.IMAGES
    DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
    images.mkdir(exist_ok=True)
    # WHEN each page is opened in turn and photographed
    for title in titles:
        page = window.open_page(title)
        settle(qtbot, window, page)
        chapter = manual.chapter_for(title)
        shot = window.grab().toImage()
        target = images / chapter.screenshot
        # written only when what it shows changed: a test run leaves the checkout clean otherwise
        if not target.exists() or QImage(str(target)).convertToFormat(shot.format()) != shot:
            assert shot.save(str(target)), f"截图未保存：{target}"
        if not (DOCS_SHOTS / chapter.screenshot).exists() or \
                (DOCS_SHOTS / chapter.screenshot).read_bytes() != target.read_bytes():
            shutil.copyfile(target, DOCS_SHOTS / chapter.screenshot)
    # THEN each page's chapter shows its own screenshot, and docs/ holds the same pictures
    for title in titles:
        chapter = manual.chapter_for(title)
        pictures = [block.items[0] for block in chapter.blocks if block.kind == "image"]
        assert pictures == [f"{manual.IMAGES}/{chapter.screenshot}"], title
        assert (DOCS_SHOTS / chapter.screenshot).stat().st_size > 10_000, title


def test_f1_opens_the_chapter_of_the_page_on_screen(window, qtbot) -> None:  # noqa: ANN001
    # GIVEN the clerk on the 党员积分 page
    window.open_page("党员积分")
    window.activateWindow()
    # WHEN she presses F1
    qtbot.keyClick(window, Qt.Key.Key_F1)
    help_window = window._help
    # THEN the manual opens beside the window (not modal) at that page's chapter, its picture loaded
    assert help_window is not None and help_window.isVisible() and not help_window.isModal()
    assert help_window.windowTitle() == "用户手册"
    assert help_window.current_title == "党员积分"
    text = help_window.browser.toPlainText()
    assert "审核积分" in text and "公示和生效" in text
    picture = help_window.browser.document().resource(QTextDocument.ResourceType.ImageResource,
                                                      QUrl("images/points.png"))
    assert picture is not None and not picture.isNull()
    # AND the contents list every chapter, the general ones too
    contents = [help_window.contents.item(i).text() for i in range(help_window.contents.count())]
    assert contents[0] == "开始使用" and "提示信息的含义" in contents and "遇到问题怎么办" in contents
    # WHEN she moves to 证书打印 and presses F1 again THEN the same window turns to that chapter
    window.open_page("证书打印")
    qtbot.keyClick(window, Qt.Key.Key_F1)
    assert window._help is help_window and help_window.current_title == "证书打印"
    help_window.grab().save(str(DOCS_SHOTS / "help.png"))  # the help window itself, for docs/
    help_window.close()


def test_the_help_window_saves_the_manual_as_a_pdf_and_says_where(window, qtbot, tmp_path: Path,  # noqa: ANN001
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN the manual open, and the clerk choosing a file on her USB stick
    help_window = window.show_manual()
    target = tmp_path / "U盘" / manual.PDF_NAME
    target.parent.mkdir()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args, **kwargs: (str(target), ""))
    # WHEN she clicks 另存为PDF…
    next(b for b in help_window.findChildren(QPushButton) if b.text() == "另存为PDF…").click()
    # THEN the PDF is written and the usual completion message names it, with 打开所在文件夹
    assert target.is_file() and target.read_bytes().startswith(b"%PDF-")
    done = help_window.findChild(QMessageBox, "file_done")
    assert done is not None and done.isVisible() and manual.PDF_NAME in done.text()
    assert done.findChild(QPushButton, "open_folder") is not None
    help_window.close()


def test_the_manual_chapters_are_written_for_staff_in_chinese() -> None:
    """No English word on the manual's pages, except the few names a clerk types or sees on a file."""
    import re

    allowed = {"Excel", "Ctrl", "Enter", "Tab", "townapp", "selftest", "LOCALAPPDATA", "local", "share",
               "xlsx", "ods", "PNG", "PDF", "Word", "PPT", "UOS", "Windows"}
    for chapter in manual.chapters():
        words = set(re.findall(r"[A-Za-z]{4,}", "".join(manual.all_text([chapter])))) - allowed
        assert words == set(), (chapter.title, words)


def test_the_manual_prints_as_a_pdf_with_its_pictures_in_the_embedded_font(tmp_path: Path) -> None:
    # WHEN the manual is written as a PDF (as the build does with python -m townapp.manual)
    out = tmp_path / manual.PDF_NAME
    assert manual.main([str(out)]) == 0
    # THEN it opens, has the cover, contents and a page per chapter at least, every font embedded
    reader = PdfReader(out)
    assert len(reader.pages) >= len(manual.chapters()) + 2
    first_pages = "".join(reader.pages[i].extract_text() for i in range(2))
    assert "用户手册" in first_pages and "目录" in first_pages
    data = out.read_bytes()
    assert b"Helvetica" not in data and b"/FontFile2" in data
    # AND the screenshots are in it
    images = sum(len(page.images) for page in reader.pages)
    assert images >= sum(1 for chapter in manual.chapters()
                         if any(block.kind == "image" for block in chapter.blocks))

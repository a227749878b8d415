"""Qt's own dialogs in Chinese, where Qt's shipped translation falls short.

qtbase_zh_CN.qm (shipped with PySide6) was made for older Qt sources: strings Qt has since reworded
(the file dialog's "&Look in:", "Files of &type:", the folder type now asked in another context) are
not in it, so a non-native file dialog on Linux shows them in English; and it calls a file's size 体积.
``FallbackTranslator`` answers those first and leaves everything else to qtbase. The table was found by
opening each standard dialog offscreen with the installed PySide6 and reading what it showed
(tests/ui/test_shell_story.py checks the file dialog and the message boxes stay free of English).

Qt also formats the file dialog's sizes and dates with the *system* locale, read once from the
environment; on a machine whose locale is C or English it writes "3 bytes".
``prefer_chinese_system_locale`` has Qt read it with ``LANGUAGE`` asking for Chinese, before that happens.
"""

from __future__ import annotations

import os
import re

from PySide6.QtCore import QLocale, QObject, QTranslator

# (context, source) → Chinese; the disambiguation comment, where Qt passes one, is not needed to tell them apart
FALLBACK: dict[tuple[str, str], str] = {
    # the non-native file dialog (Linux without a desktop theme)
    ("QFileDialog", "&Look in:"): "查找范围(&L)：",
    ("QFileDialog", "Files of &type:"): "文件类型(&T)：",
    ("QFileSystemModel", "Size"): "大小",
    ("QAbstractFileIconProvider", "Folder"): "文件夹",
    ("QAbstractFileIconProvider", "File Folder"): "文件夹",
    ("QAbstractFileIconProvider", "Drive"): "驱动器",
    ("QAbstractFileIconProvider", "Shortcut"): "快捷方式",
    ("QAbstractFileIconProvider", "Alias"): "快捷方式",
    ("QAbstractFileIconProvider", "Unknown"): "未知",
    # the colour dialog
    ("QColorDialog", "&HTML:"): "颜色代码(&H)：",
    # the print dialog and its page setup (Linux)
    ("QPrintSettingsOutput", "Page &Set:"): "页面组(&S)：",
    ("QPageSetupWidget", "Page &order:"): "页面顺序(&O)：",
    ("QPageSetupWidget", "Pages &per sheet:"): "每张页数(&P)：",
    ("QCupsJobWidget", "Scheduled &printing:"): "计划打印(&P)：",
    ("QCupsJobWidget", "&Billing information:"): "账单信息(&B)：",
    ("QCupsJobWidget", "Job &priority:"): "作业优先级(&P)：",
    ("QCupsJobWidget", "&Start:"): "开始(&S)：",
    ("QCupsJobWidget", "&End:"): "结束(&E)：",
}

# qtbase names paper sizes and font styles as "美国信纸 (Letter)": the English in brackets is dropped
_STRIP_ENGLISH_IN = frozenset({"QPageSize", "QFontDatabase"})
_ENGLISH_IN_BRACKETS = re.compile(r"\s*\((?:[A-Za-z][A-Za-z\- ]*)\)")


class FallbackTranslator(QTranslator):
    """Asked before qtbase (installed after it): the few strings qtbase lacks or gets wrong."""

    def __init__(self, qtbase: QTranslator | None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.qtbase = qtbase

    def translate(self, context: str, source: str, disambiguation: str | None = None,  # noqa: D102
                  n: int = -1) -> str | None:
        found = FALLBACK.get((context, source))
        if found is not None:
            return found
        if context in _STRIP_ENGLISH_IN and self.qtbase is not None:
            chinese = self.qtbase.translate(context, source, disambiguation, n)
            if chinese:
                return _ENGLISH_IN_BRACKETS.sub("", chinese)
        return None  # not ours: Qt asks the next translator (an empty string would blank the text)

    def isEmpty(self) -> bool:  # noqa: N802 (Qt override)
        return False


def prefer_chinese_system_locale() -> None:
    """Qt's system locale in Chinese unless the user's language list already starts with it.

    Qt reads the environment for it once, at the first ``QLocale.system()`` (or the first QApplication),
    and keeps what it read: ``LANGUAGE`` is set only for that read and restored at once, so programs the
    app starts (a PDF viewer, a file manager) see the environment as it was. No effect once Qt has read it.
    """
    saved = os.environ.get("LANGUAGE")
    if (saved or "").lower().startswith("zh"):
        return
    os.environ["LANGUAGE"] = "zh_CN:zh"
    try:
        QLocale.system()
    finally:
        if saved is None:
            del os.environ["LANGUAGE"]
        else:
            os.environ["LANGUAGE"] = saved

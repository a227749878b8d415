"""The Qt half of ``townapp selftest``, run in a child process by townapp.selftest.check_qt.

A platform plugin that cannot load makes Qt abort the whole process, so the
parent starts this probe separately and reports the abort as a failed check.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QLibraryInfo, QTranslator
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QApplication, QLabel

# A string Qt's own dialogs show, and its translation in qtbase_zh_CN.qm.
TRANSLATION_PROBE = ("QPlatformTheme", "Cancel", "取消")


def probe(platform: str | None, translations_dir: Path | None, font_path: Path | None) -> dict[str, object]:
    """Start a QApplication, load qtbase_zh_CN.qm and the bundled font, render a Chinese label."""
    argv = ["townapp"] + (["-platform", platform] if platform else [])
    app = QApplication.instance() or QApplication(argv)
    problems: list[str] = []
    folder = str(translations_dir) if translations_dir else QLibraryInfo.path(
        QLibraryInfo.LibraryPath.TranslationsPath)
    translator = QTranslator()
    context, source, expected = TRANSLATION_PROBE
    if not translator.load("qtbase_zh_CN", folder):
        problems.append(f"找不到 Qt 中文翻译 qtbase_zh_CN.qm（{folder}）")
    elif translator.translate(context, source) != expected:
        problems.append(f"Qt 中文翻译没有生效：{translator.filePath()}")
    families: list[str] = []
    if font_path is not None:
        font_id = QFontDatabase.addApplicationFont(str(font_path))
        families = QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []
        if not families:
            problems.append(f"Qt 无法加载内置字体：{font_path}")
    label = QLabel("乡镇党建与基层治理台账")
    label.adjustSize()
    if label.grab().isNull():
        problems.append("Qt 无法绘制窗口内容")
    name = app.platformName()
    if problems:
        return {"ok": False, "platform": name, "message": "；".join(problems)}
    where = Path(translator.filePath()).name
    font_text = f"，字体 {families[0]}" if families else ""
    return {"ok": True, "platform": name,
            "message": f"平台插件 {name} 已加载，{where} 已加载（“{source}”→“{expected}”）{font_text}"
                       f"，Qt {QLibraryInfo.version().toString()}，Python {sys.version.split()[0]}"}

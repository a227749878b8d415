"""字号: 标准 / 大 / 特大 for the whole window, remembered in the settings file.

The application font carries most of the window: every widget without a font of its own follows
``QApplication.setFont``. What does not follow are style sheets that fix a size in pixels (headings,
the dashboard's figures): ``scale_style_sheets`` rewrites their ``font-size: Npx`` from the size they
were written with, so switching back and forth never compounds. The main window does it for every
page when the page is built and when the size changes; a page that creates such a widget later (a
preview built after a click) writes its sheet at 标准 and calls ``follow(widget)``.
"""

from __future__ import annotations

import re

from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtWidgets import QAbstractItemView, QApplication, QHeaderView, QTableView, QTreeView, QWidget

from townapp.config import Settings

SETTING_KEY = "font_size"
SIZES: dict[str, float] = {"标准": 1.0, "大": 1.25, "特大": 1.5}
DEFAULT = "标准"
MIN_BASE_POINTS = 10

_BASE_POINTS = "townapp_base_point_size"  # QApplication property: the 标准 size, worked out once
_BASE_SHEET = "townapp_base_style_sheet"  # QWidget property: the style sheet as its page wrote it
_SCALED_SHEET = "townapp_scaled_style_sheet"  # QWidget property: what this module last set
_PIXEL_SIZE = re.compile(r"font-size:\s*(\d+(?:\.\d+)?)px")


def remembered(settings: Settings | None = None) -> str:
    """The size the user chose last time (标准 when never chosen or unknown)."""
    chosen = (settings or Settings()).get(SETTING_KEY, DEFAULT)
    return chosen if chosen in SIZES else DEFAULT


def factor(name: str) -> float:
    return SIZES.get(name, 1.0)


def base_point_size(app: QApplication) -> int:
    """The 标准 point size: the platform's, at least 10 points (Chinese is hard to read smaller)."""
    base = app.property(_BASE_POINTS)
    if not base:
        base = max(app.font().pointSize(), MIN_BASE_POINTS)
        app.setProperty(_BASE_POINTS, base)
    return int(base)


def apply_font_size(app: QApplication, name: str) -> None:
    """The application font at ``name``'s size, and every open window's pixel-sized style sheets."""
    points = round(base_point_size(app) * factor(name))
    if app.property("townapp_font_size") == name and app.font().pointSize() == points:
        return  # already so (setup_application runs again in tests): nothing to repolish
    ratio = factor(name) / current_factor(app)
    font = app.font()
    font.setPointSize(points)
    app.setFont(font)
    app.setProperty("townapp_font_size", name)
    for widget in app.topLevelWidgets():
        # Qt tells open windows itself only once its event loop runs (not yet at start-up, nor in tests)
        QCoreApplication.sendEvent(widget, QEvent(QEvent.Type.ApplicationFontChange))
        scale_style_sheets(widget, factor(name), repolish=True)
        if ratio != 1.0:
            scale_views(widget, ratio)


def current_factor(app: QApplication | None = None) -> float:
    """The factor in force (1.0 before any size was applied)."""
    app = app or QApplication.instance()
    return factor(app.property("townapp_font_size") or DEFAULT) if app is not None else 1.0


def follow(widget: QWidget) -> None:
    """A widget made after the page was built: its pixel-sized style sheets at the 字号 in force."""
    scale = current_factor()
    if scale != 1.0:
        scale_style_sheets(widget, scale)
        scale_views(widget, scale)


def scale_views(root: QWidget, ratio: float) -> None:
    """Column widths a page set in pixels and the row height of every list and table under ``root``,
    ``ratio`` times what they are: the larger text fits as the smaller did. Columns Qt sizes itself
    (stretched, to contents) are left to Qt."""
    for view in root.findChildren(QAbstractItemView):
        if isinstance(view, QTableView):
            rows = view.verticalHeader()
            rows.setDefaultSectionSize(max(rows.minimumSectionSize(), round(rows.defaultSectionSize() * ratio)))
            header = view.horizontalHeader()
        elif isinstance(view, QTreeView):
            header = view.header()
        else:
            continue
        for section in range(header.count()):
            if header.sectionResizeMode(section) in (QHeaderView.ResizeMode.Interactive,
                                                     QHeaderView.ResizeMode.Fixed):
                header.resizeSection(section, round(header.sectionSize(section) * ratio))


def scale_style_sheets(root: QWidget, scale: float, *, repolish: bool = False) -> None:
    """``font-size: Npx`` in ``root``'s and its children's style sheets, at ``scale`` times the written size.
    ``repolish``: the font changed — a widget with any style sheet keeps the font it had when the sheet
    was applied until it is polished again (the navigation list did)."""
    for widget in (root, *root.findChildren(QWidget)):
        sheet = widget.styleSheet()
        if not sheet:
            continue
        if "font-size" not in sheet:
            if repolish:
                widget.style().unpolish(widget)
                widget.style().polish(widget)
            continue
        base = widget.property(_BASE_SHEET)
        if base is None or sheet != widget.property(_SCALED_SHEET):  # new, or its page wrote it anew since
            base = sheet
            widget.setProperty(_BASE_SHEET, base)
        scaled = _PIXEL_SIZE.sub(lambda m: f"font-size: {round(float(m.group(1)) * scale)}px", base)
        widget.setProperty(_SCALED_SHEET, scaled)
        if scaled != sheet:
            widget.setStyleSheet(scaled)

"""Choosing files the way township users carry them: USB drives offered first."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QStandardPaths, QStorageInfo, QUrl
from PySide6.QtWidgets import QFileDialog, QWidget

from townapp.config import Settings
from townapp.db.safety import REMOVABLE, location_kind

LAST_FOLDER_KEY = "last_exchange_folder"
EXCEL_FILTER = "Excel 或 WPS 表格 (*.xlsx *.xlsm *.xls *.ods);;所有文件 (*)"
XLSX_FILTER = "Excel 工作簿 (*.xlsx)"


def removable_folders() -> list[Path]:
    """Mounted USB drives and other removable volumes, in the order the system lists them."""
    folders = []
    for volume in QStorageInfo.mountedVolumes():
        if not volume.isValid() or not volume.isReady() or volume.isReadOnly():
            continue
        root = Path(volume.rootPath())
        try:
            if location_kind(root) == REMOVABLE:
                folders.append(root)
        except OSError:
            continue
    return folders


def _dialog(parent: QWidget | None, title: str, settings: Settings) -> tuple[QFileDialog, list[Path]]:
    drives = removable_folders()
    dialog = QFileDialog(parent, title)
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)  # the sidebar below needs Qt's own dialog
    start = drives[0] if drives else Path(settings.get(LAST_FOLDER_KEY) or Path.home())
    dialog.setDirectory(str(start))
    urls = [QUrl.fromLocalFile(str(d)) for d in drives]
    # the system's own desktop folder (桌面 on a Chinese desktop), only where it exists
    desktop = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DesktopLocation)
    urls += [QUrl.fromLocalFile(folder) for folder in dict.fromkeys((str(Path.home()), desktop))
             if folder and Path(folder).is_dir()]
    dialog.setSidebarUrls(urls)
    return dialog, drives


def choose_open_file(parent: QWidget | None, title: str, settings: Settings, name_filter: str = EXCEL_FILTER) -> Path | None:
    dialog, _drives = _dialog(parent, title, settings)
    dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
    dialog.setNameFilter(name_filter)
    if not dialog.exec() or not dialog.selectedFiles():
        return None
    chosen = Path(dialog.selectedFiles()[0])
    settings.set(LAST_FOLDER_KEY, str(chosen.parent))
    return chosen


def choose_save_file(parent: QWidget | None, title: str, settings: Settings, default_name: str,
                     name_filter: str = XLSX_FILTER, suffix: str = ".xlsx") -> Path | None:
    """A save dialog opened on the first USB drive if one is plugged in."""
    dialog, _drives = _dialog(parent, title, settings)
    dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
    dialog.setNameFilter(name_filter)
    dialog.setDefaultSuffix(suffix.lstrip("."))
    dialog.selectFile(default_name)
    if not dialog.exec() or not dialog.selectedFiles():
        return None
    chosen = Path(dialog.selectedFiles()[0])
    if chosen.suffix.lower() != suffix:
        chosen = chosen.with_suffix(suffix)
    settings.set(LAST_FOLDER_KEY, str(chosen.parent))
    return chosen

"""townapp — 乡镇党建与基层治理台账（离线桌面版）."""

from __future__ import annotations

from importlib import metadata

try:
    __version__ = metadata.version("townapp")
except metadata.PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0.0.0+source"

APP_NAME = "townapp"
APP_TITLE = "乡镇党建与基层治理台账"

"""Where things live: the user's data folder, the settings file, bundled resources.

Data and settings always live in the user's data folder (platformdirs), never
beside the program. ``TOWNAPP_DATA_DIR`` overrides it (tests, portable use).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from platformdirs import user_data_dir

DATA_DIR_ENV = "TOWNAPP_DATA_DIR"
RESOURCES_ENV = "TOWNAPP_RESOURCES"


def data_dir() -> Path:
    """The user's data folder, created on first use."""
    path = Path(os.environ.get(DATA_DIR_ENV) or user_data_dir("townapp", appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_db_path() -> Path:
    return data_dir() / "townapp.db"


def demo_db_path() -> Path:
    return data_dir() / "demo.db"


def backup_dir() -> Path:
    path = data_dir() / "backups"
    path.mkdir(parents=True, exist_ok=True)
    return path


def log_path() -> Path:
    path = data_dir() / "logs"
    path.mkdir(parents=True, exist_ok=True)
    return path / "townapp.log"


def resources_dir() -> Path:
    """``resources/``: in a frozen build, a source checkout, or an installed wheel."""
    override = os.environ.get(RESOURCES_ENV)
    if override:
        return Path(override)
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen) / "resources"
    checkout = Path(__file__).resolve().parent.parent / "resources"
    if checkout.is_dir():
        return checkout
    import townapp_resources  # installed from a wheel: resources/ shipped as package data

    return Path(next(iter(townapp_resources.__path__)))


def resource(*parts: str) -> Path:
    return resources_dir().joinpath(*parts)


class Settings:
    """Small JSON settings file in the data folder (window geometry, last paths).

    Written atomically so a crash never leaves half a file.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or data_dir() / "settings.json"
        try:
            self._values: dict[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self._values = {}

    def get(self, key: str, default: Any = None) -> Any:
        return self._values.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self._values[key] = value
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self._values, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, self.path)

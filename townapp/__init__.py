"""townapp — 乡镇党建与基层治理台账（离线桌面版）."""

from __future__ import annotations

from functools import lru_cache

APP_NAME = "townapp"
APP_TITLE = "乡镇党建与基层治理台账"


@lru_cache(maxsize=1)
def version() -> str:
    """The installed version (pyproject.toml is its one source); looked up when first asked for,
    because reading package metadata costs start-up time before the window appears."""
    from importlib import metadata

    try:
        return metadata.version("townapp")
    except metadata.PackageNotFoundError:  # running from a checkout that was never installed
        return "0.0.0+source"


def __getattr__(name: str) -> str:
    if name == "__version__":  # ``townapp.__version__`` still works, computed on first use
        return version()
    raise AttributeError(f"module 'townapp' has no attribute {name!r}")

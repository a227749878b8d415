"""Shared fixtures: a migrated template database copied per test, data dir in tmp."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from townapp.db import Database, open_database
from townapp.registry.service import RegistryService

TOWNSHIP_CODE = "140821100"
TOWNSHIP_NAME = "临晋镇"


@pytest.fixture(autouse=True)
def _private_data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own data folder: settings, backups and logs never leak."""
    path = tmp_path_factory.mktemp("data")
    monkeypatch.setenv("TOWNAPP_DATA_DIR", str(path))
    return path


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty database migrated to head once per test session."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    db = open_database(path, create=True)
    db.dispose()
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return path


@pytest.fixture
def empty_db(migrated_template: Path, tmp_path: Path) -> Database:
    """A fresh migrated database, not yet initialised as township or county."""
    target = tmp_path / "townapp.db"
    shutil.copyfile(migrated_template, target)
    db = open_database(target)
    yield db
    db.dispose()


@pytest.fixture
def db(empty_db: Database) -> Database:
    """A township database (临晋镇) with no villages yet."""
    RegistryService(empty_db).initialise("township", TOWNSHIP_NAME, TOWNSHIP_CODE)
    return empty_db


@pytest.fixture
def registry(db: Database) -> RegistryService:
    return RegistryService(db)


from tests.figures import pytest_terminal_summary  # noqa: E402,F401  (prints the safety figures)

"""Shared fixtures: a migrated template database copied per test, demo databases built once, data dir in tmp."""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from townapp.db import Database, open_database
from townapp.demo import build_demo
from townapp.registry.service import RegistryService

TOWNSHIP_CODE = "140821100"
TOWNSHIP_NAME = "临晋镇"


@pytest.fixture(autouse=True)
def _private_data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own data folder: settings, backups and logs never leak."""
    path = tmp_path_factory.mktemp("data")
    monkeypatch.setenv("TOWNAPP_DATA_DIR", str(path))
    # a written PDF opens in the app's own preview, never in a viewer on the machine running the tests
    monkeypatch.setenv("TOWNAPP_NO_PDF_VIEWER", "1")
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


# The day the tests' demo databases run up to: a fixed date, so their figures do not move with the calendar.
# Mid-year on purpose: the people (drawn relative to this day) are those the real-corpus workbooks and the
# stories were written against, last year is complete and closed, this year half run.
DEMO_AS_OF = dt.date(2026, 7, 1)


@pytest.fixture(scope="session")
def built_demo(migrated_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """``built_demo(scale, seed, modules=None)``: the demo database of that scale and seed, built once per
    session (building takes seconds; copying it, milliseconds). Copy it; never write to it."""
    built: dict[tuple, Path] = {}

    def build(scale: str, seed: int, modules: Sequence[str] | None = None) -> Path:
        key = (scale, seed, tuple(modules) if modules else None)
        if key not in built:
            path = tmp_path_factory.mktemp(f"demo-{scale}-{seed}") / "demo.db"
            shutil.copyfile(migrated_template, path)
            db = open_database(path)
            build_demo(db, scale=scale, seed=seed, modules=modules, as_of=DEMO_AS_OF)
            db.dispose()
            built[key] = path
        return built[key]

    return build


@pytest.fixture
def open_demo(built_demo: Callable[..., Path], tmp_path: Path) -> Iterator[Callable[..., Database]]:
    """``open_demo(scale, seed)``: this test's own copy of that demo database, open; closed after the test."""
    opened: list[Database] = []

    def open_copy(scale: str, seed: int) -> Database:
        path = tmp_path / f"demo-{scale}-{seed}.db"
        shutil.copyfile(built_demo(scale, seed), path)
        opened.append(open_database(path))
        return opened[-1]

    yield open_copy
    for db in opened:
        db.dispose()


from tests.figures import pytest_terminal_summary  # noqa: E402,F401  (prints the safety figures)

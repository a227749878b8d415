"""Shared fixtures: a migrated template database copied per test, demo databases built once, data dir in tmp."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import re
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


_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[pytest.TestReport]:
    report = yield
    if report.failed:
        item.stash[_FAILED] = True
    return report


@pytest.fixture(autouse=True)
def _private_data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch,
                      request: pytest.FixtureRequest) -> Iterator[Path]:
    """Every test gets its own data folder: settings, backups and logs never leak. Removed when the test
    passed (pre-import backups of a township demo are 180 MB each); a failed test's stays to be read."""
    path = tmp_path_factory.mktemp("data")
    monkeypatch.setenv("TOWNAPP_DATA_DIR", str(path))
    # a written PDF opens in the app's own preview, never in a viewer on the machine running the tests
    monkeypatch.setenv("TOWNAPP_NO_PDF_VIEWER", "1")
    yield path
    _delete_closed_widgets()
    if not request.node.stash.get(_FAILED, False):
        shutil.rmtree(path, ignore_errors=True)


def _delete_closed_widgets() -> None:
    """Carry out the deletions this test's widgets asked for (qtbot closes and deleteLater()s them) now,
    not in the next test's event loop: a window's timer must never reach a database whose folder is gone."""
    import sys

    if "PySide6.QtWidgets" not in sys.modules:
        return
    from PySide6.QtCore import QCoreApplication, QEvent

    if QCoreApplication.instance() is not None:
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


# ----- the second backend (issue 22) ----------------------------------------------------------------
# The service and exchange suites run on SQLite and on PostgreSQL: every test of these folders that opens a
# database (the ``backend`` fixture, under ``empty_db``/``db``/``open_demo``) runs twice. .ci/run starts a
# throwaway server and sets TOWNAPP_TEST_PG_URL; without it the PostgreSQL half is skipped (and counted).
PG_URL = os.environ.get("TOWNAPP_TEST_PG_URL")
BOTH_BACKENDS = frozenset({"accounts", "archives", "county", "evaluations", "exchange", "followup", "grids",
                           "outputs", "points", "registry", "yearend"})
SQLITE_ONLY = "只适用于 SQLite"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only(why): SQLite by nature (the file, its pragmas, a copy of it); "
                                       "skipped on PostgreSQL")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test of the service and exchange suites that opens a database runs on both backends."""
    if "backend" not in metafunc.fixturenames:
        return
    folder = Path(str(metafunc.definition.path)).parent.name
    if folder in BOTH_BACKENDS:
        metafunc.parametrize("backend", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """"sqlite" or "postgresql": which database this run of the test uses."""
    name = getattr(request, "param", "sqlite")
    if name == "postgresql":
        marker = request.node.get_closest_marker("sqlite_only")
        if marker is not None:
            pytest.skip(f"{SQLITE_ONLY}：{marker.args[0] if marker.args else ''}")
        if not PG_URL:
            pytest.skip("没有 PostgreSQL 服务器（TOWNAPP_TEST_PG_URL 未设置）")
    return name


class PgDatabases:
    """Databases on the test server: made from templates (a file copy on the server), dropped after the test."""

    def __init__(self, url: str) -> None:
        from sqlalchemy import make_url

        self.url = make_url(url)
        self.names = (f"t{os.getpid()}_{n}" for n in itertools.count())

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(host=self.url.host, port=self.url.port, user=self.url.username,
                             password=self.url.password, dbname=self.url.database, autocommit=True) as con:
            con.execute(sql)

    def url_of(self, name: str) -> str:
        return self.url.set(database=name).render_as_string(hide_password=False)

    def create(self, template: str | None = None) -> str:
        name = next(self.names)
        source = f"TEMPLATE {template} STRATEGY FILE_COPY" if template else ""
        self._admin(f"CREATE DATABASE {name} {source}")
        return name

    def drop(self, name: str) -> None:
        self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def pg_databases() -> Iterator[PgDatabases | None]:
    if not PG_URL:
        yield None
        return
    made = PgDatabases(PG_URL)
    yield made


@pytest.fixture(scope="session")
def pg_template(pg_databases: PgDatabases | None) -> Iterator[str | None]:
    """An empty server database migrated to head once per session (the template of each test's database)."""
    if pg_databases is None:
        yield None
        return
    name = pg_databases.create()
    open_database(pg_databases.url_of(name), create=True).dispose()
    yield name
    pg_databases.drop(name)


def _server_copy(pg_databases: PgDatabases, template: str) -> Iterator[Database]:
    name = pg_databases.create(template)
    db = open_database(pg_databases.url_of(name))
    try:
        yield db
    finally:
        db.dispose()
        pg_databases.drop(name)


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


class _OpenedForTest:
    """The databases a test opened: each a copy of a template — a file copied, or a server database made
    from a template database; after the test files are closed, server databases closed and dropped."""

    def __init__(self, backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
        self.backend, self.tmp_path, self.request = backend, tmp_path, request
        self.files: list[Database] = []
        self.servers: list[Iterator[Database]] = []

    def copy(self, file_template: Callable[[], Path], server_template: Callable[[], str], name: str) -> Database:
        if self.backend == "postgresql":
            self.servers.append(_server_copy(self.request.getfixturevalue("pg_databases"), server_template()))
            return next(self.servers[-1])
        path = self.tmp_path / name
        shutil.copyfile(file_template(), path)
        self.files.append(open_database(path))
        return self.files[-1]

    def close(self) -> None:
        for db in self.files:
            db.dispose()
        for server in self.servers:
            next(server, None)  # disposed and dropped


@pytest.fixture
def empty_db(backend: str, migrated_template: Path, tmp_path: Path, request: pytest.FixtureRequest) -> Database:
    """A fresh migrated database, not yet initialised as township or county (a file, or a server database)."""
    opened = _OpenedForTest(backend, tmp_path, request)
    yield opened.copy(lambda: migrated_template, lambda: request.getfixturevalue("pg_template"), "townapp.db")
    opened.close()


@pytest.fixture
def another_db(backend: str, migrated_template: Path, tmp_path: Path,
               request: pytest.FixtureRequest) -> Iterator[Callable[[], Database]]:
    """``another_db()``: one more empty migrated database on this test's backend — a county beside the
    township, a second township, a database to import into — closed (and dropped on a server) after the test."""
    opened = _OpenedForTest(backend, tmp_path, request)
    yield lambda: opened.copy(lambda: migrated_template, lambda: request.getfixturevalue("pg_template"),
                              f"another-{len(opened.files)}.db")
    opened.close()


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


@pytest.fixture(scope="session")
def server_demo(built_demo: Callable[..., Path], pg_databases: PgDatabases | None,
                pg_template: str | None) -> Iterator[Callable[[str, int], str]]:
    """``server_demo(scale, seed)``: the name of a server database holding that demo (copied from the
    SQLite file once per session); a template: copy it, never write to it."""
    from townapp.db.engine import open_readonly
    from townapp.db.server import copy_database

    made: dict[tuple[str, int], str] = {}

    def build(scale: str, seed: int) -> str:
        assert pg_databases is not None and pg_template is not None
        if (scale, seed) not in made:
            name = pg_databases.create(pg_template)
            target = open_database(pg_databases.url_of(name))
            source = open_readonly(built_demo(scale, seed))
            try:
                copy_database(source.engine, target.engine)
            finally:
                source.dispose()
                target.dispose()
            made[(scale, seed)] = name
        return made[(scale, seed)]

    yield build
    for name in made.values():
        assert pg_databases is not None
        pg_databases.drop(name)


@pytest.fixture
def open_demo(backend: str, built_demo: Callable[..., Path], tmp_path: Path,
              request: pytest.FixtureRequest) -> Iterator[Callable[..., Database]]:
    """``open_demo(scale, seed)``: this test's own copy of that demo database, open; closed after the test."""
    opened = _OpenedForTest(backend, tmp_path, request)
    yield lambda scale, seed: opened.copy(lambda: built_demo(scale, seed),
                                          lambda: request.getfixturevalue("server_demo")(scale, seed),
                                          f"demo-{scale}-{seed}.db")
    opened.close()


from tests.figures import pytest_terminal_summary, record_backends  # noqa: E402,F401  (prints the figures)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Counted for the summary: how many tests ran on PostgreSQL, how many were SQLite's by nature."""
    if not re.search(r"\[postgresql[\]-]", report.nodeid):  # the backend's id comes first among the params
        return
    record_backends("seconds", report.duration)
    if report.when == "call" and report.passed:
        record_backends("ran")
    elif report.when == "call" and report.failed:
        record_backends("failed")
    elif report.skipped and report.when == "setup":
        reason = str(report.longrepr[2]) if isinstance(report.longrepr, tuple) else ""
        record_backends("sqlite_only" if SQLITE_ONLY in reason else "no_server")

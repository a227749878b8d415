"""The county server (issue 22): the same package lands the same on SQLite and PostgreSQL, and two
townships' packages imported at the same time on PostgreSQL both land whole.

Skipped without a server (TOWNAPP_TEST_PG_URL, started by .ci/run).
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.conftest import DEMO_AS_OF, PG_URL
from townapp.core.actor import CLI_ACTOR
from townapp.db import Database, open_database
from townapp.db.engine import open_readonly
from townapp.demo import build_demo
from townapp.exchange.package import read_manifest, write_package
from townapp.exchange.pipeline import ImportReport, run_import
from townapp.exchange.reader import Workbook
from townapp.registry import models as m
from townapp.registry.service import RegistryService
from townapp.sheets import all_sheet_specs, package_sheet_specs

pytestmark = pytest.mark.skipif(not PG_URL, reason="没有 PostgreSQL 服务器（TOWNAPP_TEST_PG_URL 未设置）")

TOWNSHIPS = (("临晋镇", "140821100"), ("猗氏镇", "140821101"))


def sheet_checksums(path: Path) -> dict[str, tuple[int, str]]:
    with Workbook(path) as book:
        manifest = read_manifest(book)
    assert manifest is not None
    return manifest.sheets


def export(db: Database, path: Path) -> Path:
    return write_package(db, package_sheet_specs(db), path, actor=CLI_ACTOR).path


def import_package(db: Database, path: Path) -> ImportReport:
    specs = [*all_sheet_specs(), *package_sheet_specs(db, receiving=True)]
    return run_import(db, path, specs, actor=CLI_ACTOR)


@pytest.fixture
def server_database(pg_databases, pg_template) -> Iterator[Callable[[str, str, str], Database]]:
    """``server_database(mode, name, code)``: a new server database, initialised; dropped after the test."""
    made: list[tuple[str, Database]] = []

    def make(mode: str, name: str, code: str) -> Database:
        database = pg_databases.create(pg_template)
        db = open_database(pg_databases.url_of(database))
        RegistryService(db).initialise(mode, name, code)
        made.append((database, db))
        return db

    yield make
    for database, db in made:
        db.dispose()
        pg_databases.drop(database)


def file_database(template: Path, path: Path, mode: str, name: str, code: str) -> Database:
    shutil.copyfile(template, path)
    db = open_database(path)
    RegistryService(db).initialise(mode, name, code)
    return db


def township_package(template: Path, folder: Path, name: str, code: str, seed: int) -> Path:
    """A small demo township of its own (its own people) and the package it exports."""
    path = folder / f"{code}.db"
    shutil.copyfile(template, path)
    db = open_database(path)
    try:
        build_demo(db, scale="small", seed=seed, as_of=DEMO_AS_OF, township=(name, code))
        return export(db, folder / f"{code}.xlsx")
    finally:
        db.dispose()


def test_the_same_package_exports_the_same_from_sqlite_and_postgresql(
        built_demo, migrated_template: Path, server_database, tmp_path: Path) -> None:
    """GIVEN a demo township's package
    WHEN it is imported into a new SQLite file and into a new PostgreSQL database, and each exports again
    THEN every sheet of the two packages has the same rows and the same checksum"""
    shutil.copyfile(built_demo("small", 5), tmp_path / "source.db")
    source = open_database(tmp_path / "source.db")
    try:
        name, code = source.meta("root_name"), source.meta("root_code")
        package = export(source, tmp_path / "source.xlsx")
    finally:
        source.dispose()
    on_file = file_database(migrated_template, tmp_path / "copy.db", "township", name, code)
    on_server = server_database("township", name, code)
    try:
        for db in (on_file, on_server):
            report = import_package(db, package)
            assert report.accepted, report.summary_text(max_errors=5)
        from_file = sheet_checksums(export(on_file, tmp_path / "from-sqlite.xlsx"))
        from_server = sheet_checksums(export(on_server, tmp_path / "from-postgresql.xlsx"))
    finally:
        on_file.dispose()
    assert from_file == from_server
    assert sum(rows for rows, _sha in from_server.values()) > 1000  # a real township, not an empty one


def test_two_townships_imported_at_the_same_time_on_postgresql_both_land(
        migrated_template: Path, server_database, tmp_path: Path) -> None:
    """GIVEN two townships' packages and a county database on the server
    WHEN both are imported at the same moment, each in its own thread and connection
    THEN both imports are accepted, and the county holds exactly each township's people and households"""
    packages = [township_package(migrated_template, tmp_path, name, code, seed)
                for seed, (name, code) in enumerate(TOWNSHIPS, start=11)]
    expected = {}
    for name, code in TOWNSHIPS:
        db = open_readonly(tmp_path / f"{code}.db")
        try:
            with db.engine.connect() as conn:
                expected[name] = (conn.execute(select(func.count()).select_from(m.Person)).scalar_one(),
                                  conn.execute(select(func.count()).select_from(m.Household)).scalar_one())
        finally:
            db.dispose()
    county = server_database("county", "临猗县", "140821")
    reports: dict[str, ImportReport] = {}
    failures: list[BaseException] = []
    start = threading.Barrier(len(packages))

    def run(name: str, package: Path) -> None:
        try:
            start.wait()
            reports[name] = import_package(county, package)
        except BaseException as exc:  # reported below: a thread's exception would otherwise vanish
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(name, package))
               for (name, _code), package in zip(TOWNSHIPS, packages, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures
    assert all(report.accepted for report in reports.values()), [r.summary_text(max_errors=5) for r in reports.values()]
    with county.engine.connect() as conn:
        people = dict(conn.execute(select(m.Township.name, func.count(m.Person.id))
                                   .join(m.Village, m.Village.township_id == m.Township.id)
                                   .join(m.Person, m.Person.village_id == m.Village.id)
                                   .group_by(m.Township.name)).all())
        households = dict(conn.execute(select(m.Township.name, func.count(m.Household.id))
                                       .join(m.Village, m.Village.township_id == m.Township.id)
                                       .join(m.Household, m.Household.village_id == m.Village.id)
                                       .group_by(m.Township.name)).all())
    assert {name: (people.get(name), households.get(name)) for name in expected} == expected

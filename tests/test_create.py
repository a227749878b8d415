"""One function creates a database, for ``townapp init`` and for the GUI's first run alike.

The two paths used to be written twice and cleaned up differently on failure
(the CLI left the -wal and -shm files of a refused init behind). Now both call
townapp.create.create_database: a refusal leaves no file of any kind, and an
existing file is never touched.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from townapp import cli, create
from townapp.core.actor import SYSTEM_ACTOR
from townapp.core.errors import DomainError, ValidationFailed
from townapp.ui import startup

TOWNSHIP, CODE = "临晋镇", "140821100"


def _left(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_the_cli_and_the_gui_create_a_database_through_the_same_function(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """GIVEN create_database watched
    WHEN ``townapp init`` and the GUI's first-run step each make a township database
    THEN both went through it, and both files are initialised township databases."""
    calls: list[tuple[str, str]] = []
    real = create.create_database

    def watched(path, mode, name, code, actor, village=None):  # noqa: ANN001, ANN202
        calls.append((Path(path).name, mode))
        return real(path, mode, name, code, actor, village)

    monkeypatch.setattr(create, "create_database", watched)
    assert cli.main(["init", "--db", str(tmp_path / "cli.db"), "--township", TOWNSHIP, "--code", CODE]) == 0
    db = startup.create_township_database(tmp_path / "gui.db", TOWNSHIP, CODE)
    try:
        assert db.meta("mode") == "township" and db.meta("root_code") == CODE
    finally:
        db.dispose()
    assert calls == [("cli.db", "township"), ("gui.db", "township")]
    assert "已新建乡镇数据库" in capsys.readouterr().out


def test_a_refused_creation_leaves_no_file_behind_on_either_path(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """GIVEN a township code that is not one (the file is already made and migrated when it is refused)
    WHEN the CLI and the GUI try to create a database with it
    THEN the CLI answers 1 with the Chinese reason, the GUI step raises it, and the folder is empty
    (no database, no -wal, no -shm)."""
    assert cli.main(["init", "--db", str(tmp_path / "cli.db"), "--township", TOWNSHIP, "--code", "12"]) == 1
    assert "区划代码" in capsys.readouterr().err
    with pytest.raises(ValidationFailed):
        startup.create_township_database(tmp_path / "gui.db", TOWNSHIP, "12")
    assert _left(tmp_path) == []


def test_a_failure_while_migrating_removes_the_half_made_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN a migration that fails after the new file was made
    WHEN a database is created
    THEN the error reaches the caller and nothing is left in the folder."""
    from townapp.db import migrate

    def broken(_engine, _revision="head"):  # noqa: ANN001, ANN202
        raise OSError("磁盘已满（模拟）")

    monkeypatch.setattr(migrate, "upgrade", broken)
    with pytest.raises(OSError):
        create.create_database(tmp_path / "new.db", "township", TOWNSHIP, CODE, SYSTEM_ACTOR)
    assert _left(tmp_path) == []


def test_an_existing_file_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    """GIVEN a file already where the new database should go
    WHEN a database is created there
    THEN it is refused in Chinese and the file keeps its bytes."""
    existing = tmp_path / "data.db"
    existing.write_bytes(b"someone's work")
    with pytest.raises(DomainError, match="文件已存在"):
        create.create_database(existing, "township", TOWNSHIP, CODE, SYSTEM_ACTOR)
    assert existing.read_bytes() == b"someone's work" and _left(tmp_path) == ["data.db"]

"""The command line as scripts and IT staff use it: exit codes and Chinese messages (DESIGN §8)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from townapp.cli import main


def run_cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TOWNAPP_DATA_DIR": str(data_dir), "PYTHONIOENCODING": "utf-8"}
    return subprocess.run([sys.executable, "-m", "townapp", *args], capture_output=True, text=True,
                          env=env, timeout=600, encoding="utf-8")


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``townapp demo --scale township`` run once, as a user would run it."""
    folder = tmp_path_factory.mktemp("cli-demo")
    path = folder / "demo.db"
    result = run_cli("demo", "--db", str(path), "--scale", "township", "--seed", "3", data_dir=folder)
    assert result.returncode == 0, result.stderr
    assert "演示数据库已生成" in result.stdout and "用时" in result.stdout
    return path


def test_version_and_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    # WHEN the version is asked for THEN it is printed and the exit code is 0
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert "townapp" in capsys.readouterr().out
    # WHEN a required option is missing THEN exit code 2 with a Chinese message
    with pytest.raises(SystemExit) as exit_info:
        main(["init", "--db", "x.db"])
    assert exit_info.value.code == 2
    assert "缺少必填参数" in capsys.readouterr().err


def test_init_creates_a_township_database_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN no database WHEN init runs THEN a migrated, initialised database exists
    path = tmp_path / "临晋 镇.db"  # Chinese characters and spaces in paths work
    assert main(["init", "--db", str(path), "--township", "临晋镇", "--code", "140821100"]) == 0
    assert "已新建乡镇数据库" in capsys.readouterr().out
    # WHEN init runs again on the same file THEN it refuses (exit 1) and keeps the file
    assert main(["init", "--db", str(path), "--township", "临晋镇", "--code", "140821100"]) == 1
    assert "文件已存在" in capsys.readouterr().err
    # WHEN the code is malformed THEN a Chinese message says what is wrong and no file is left
    bad = tmp_path / "bad.db"
    assert main(["init", "--db", str(bad), "--county", "临猗县", "--code", "14082"]) == 1
    assert "6位" in capsys.readouterr().err
    assert not bad.exists()


def test_check_passes_on_the_demo_database(demo_db: Path, tmp_path: Path) -> None:
    # WHEN check runs on a fresh demo database THEN it exits 0 and reports ok in JSON
    result = run_cli("check", "--db", str(demo_db), "--json", data_dir=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert report["integrity"] == "ok"
    assert report["foreign_key_violations"] == 0
    assert report["schema_revision"] == report["head_revision"]
    assert report["people"] > 20_000


def test_check_fails_on_a_broken_foreign_key(demo_db: Path, tmp_path: Path) -> None:
    # GIVEN a copy of the demo database where a household points at a village that does not exist
    broken = tmp_path / "broken.db"
    source = sqlite3.connect(demo_db)
    target = sqlite3.connect(broken)
    source.backup(target)
    source.close()
    target.execute("PRAGMA foreign_keys=OFF")
    target.execute("UPDATE household SET village_id = 99999 WHERE id = (SELECT min(id) FROM household)")
    target.commit()
    target.close()
    # WHEN check runs THEN it exits 1 and names the foreign-key error in Chinese
    result = run_cli("check", "--db", str(broken), data_dir=tmp_path)
    assert result.returncode == 1, result.stdout
    assert "外键错误" in result.stdout and "household" in result.stdout
    assert "检查未通过" in result.stdout


def test_check_fails_on_a_household_without_head(demo_db: Path, tmp_path: Path) -> None:
    # GIVEN a household whose head was recorded as 其他
    broken = tmp_path / "nohead.db"
    source, target = sqlite3.connect(demo_db), sqlite3.connect(broken)
    source.backup(target)
    source.close()
    target.execute("UPDATE household_member SET relation='其他' WHERE relation='户主' AND household_id = "
                   "(SELECT min(household_id) FROM household_member)")
    target.commit()
    target.close()
    # WHEN check runs THEN it fails naming the household rule
    result = run_cli("check", "--db", str(broken), "--json", data_dir=tmp_path)
    assert result.returncode == 1
    assert any("户主" in e for e in json.loads(result.stdout)["errors"])


def test_missing_or_foreign_database_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # WHEN check is pointed at nothing THEN exit 1 with a message
    assert main(["check", "--db", str(tmp_path / "none.db")]) == 1
    assert "不存在" in capsys.readouterr().err
    # WHEN pointed at another program's database THEN it is refused, not altered
    other = tmp_path / "other.db"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE notes (x)")
    con.close()
    assert main(["check", "--db", str(other)]) == 1
    assert "不是 townapp 的数据库" in capsys.readouterr().err


def test_backup_writes_a_consistent_copy(demo_db: Path, tmp_path: Path) -> None:
    result = run_cli("backup", "--db", str(demo_db), "--out", str(tmp_path / "usb"), data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    copies = list((tmp_path / "usb").glob("*.db"))
    assert len(copies) == 1
    con = sqlite3.connect(copies[0])
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert con.execute("SELECT count(*) FROM person").fetchone()[0] > 20_000
    con.close()


def test_an_unexpected_failure_exits_3_and_names_the_log(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN a command that fails in a way nobody planned for
    def explode(_args: object) -> int:
        raise RuntimeError("身份证号 140821197003040111 处理时出错")

    monkeypatch.setattr("townapp.cli.cmd_check", explode)
    # WHEN it runs THEN the exit code is 3 and the message points at the log file
    assert main(["check", "--db", str(tmp_path / "x.db")]) == 3
    err = capsys.readouterr().err
    assert "日志文件" in err
    # AND the log file holds the traceback with the ID number masked
    from townapp import config

    log_text = config.log_path().read_text(encoding="utf-8")
    assert "RuntimeError" in log_text
    assert "140821197003040111" not in log_text and "140***********0111" in log_text


@pytest.mark.parametrize("argv", [
    ["init", "--db", "x.db", "--township", "临晋镇", "--code", "140821100"],
    ["init", "--db", "x.db", "--county", "临猗县", "--code", "140821"],
    ["demo", "--db", "x.db", "--scale", "county", "--seed", "2"],
    ["check", "--db", "x.db", "--json"],
    ["import", "--db", "x.db", "f.xlsx", "--dry-run", "--report", "r.json"],
    ["export", "template", "--out", "t.xlsx"],
    ["export", "package", "--db", "x.db", "--out", "p.xlsx"],
    ["export", "quarterly", "--db", "x.db", "--year", "2026", "--quarter", "4", "--out", "q.xlsx", "--pdf", "q.pdf"],
    ["archive", "--db", "x.db", "--village", "140821100201", "--out", "a.pdf"],
    ["certificates", "--db", "x.db", "--kind", "household-star", "--year", "2025", "--out", "c.pdf", "--overlay"],
    ["backup", "--db", "x.db", "--out", "folder"],
    ["restore", "--db", "x.db", "--from", "b.db"],
    ["selftest", "--json"],
    ["bench", "--scale", "township", "--json", "b.json"],
], ids=lambda argv: " ".join(argv[:2]))
def test_every_command_of_the_contract_parses(argv: list[str]) -> None:
    """DESIGN §8 is used by checks from outside: a command or option that went missing fails here (never a skip)."""
    from townapp.cli import build_parser

    # WHEN each documented command line is parsed THEN it is accepted as written
    args = build_parser().parse_args(argv)
    assert args.command == argv[0]


def test_a_folder_or_a_file_where_a_path_should_be_is_exit_1_in_chinese(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 16 (second outside test): an output path that is a folder, or whose parent is a file, ended in
    exit 3 "发生意外错误" (IsADirectoryError from the final rename, NotADirectoryError, FileExistsError)."""
    db = tmp_path / "临晋镇.db"
    assert main(["init", "--db", str(db), "--township", "临晋镇", "--code", "140821100"]) == 0
    folder = tmp_path / "像文件的文件夹.xlsx"
    folder.mkdir()
    plain = tmp_path / "文件夹"
    plain.mkdir()
    capsys.readouterr()
    commands = [
        ["export", "template", "--out", str(folder)],
        ["export", "package", "--db", str(db), "--out", str(folder)],
        ["export", "quarterly", "--db", str(db), "--year", "2026", "--quarter", "1", "--out", str(folder)],
        ["export", "template", "--out", str(db / "t.xlsx")],
        ["backup", "--db", str(db), "--out", str(db / "sub")],
        ["backup", "--db", str(db), "--out", str(db)],
        ["restore", "--db", str(plain), "--from", str(db)],
        ["restore", "--db", str(db / "x.db"), "--from", str(db)],
    ]
    for argv in commands:
        # WHEN the command is given such a path THEN exit 1, a Chinese message, and nothing unexpected
        code = main(argv)
        printed = capsys.readouterr()
        said = printed.out + printed.err
        assert code == 1, (argv, code, said)
        assert "意外" not in said and any("\u4e00" <= ch <= "\u9fff" for ch in said), (argv, said)
    # AND no hidden temporary file is left behind
    assert not [p.name for p in tmp_path.rglob("*.part")]


def test_a_reader_closing_the_pipe_does_not_change_the_exit_code(tmp_path: Path) -> None:
    """GIVEN `townapp export template … | head -1` (the reader closes the pipe before townapp prints)
    WHEN the command runs
    THEN it still exits 0 with its work done — not 3 with "发生意外错误" after the file was written."""
    env = {**os.environ, "TOWNAPP_DATA_DIR": str(tmp_path / "data")}
    read, write = os.pipe()
    os.close(read)  # nobody will ever read: the first print meets a closed pipe
    done = subprocess.run([sys.executable, "-m", "townapp", "export", "template", "--out", str(tmp_path / "t.xlsx")],
                          stdout=write, stderr=subprocess.PIPE, env=env, timeout=120)
    os.close(write)
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    assert (tmp_path / "t.xlsx").is_file() and b"Traceback" not in done.stderr

"""How ``--db`` names a server (issue 22): a URL is a server, anything else a file; the password never shows."""

from __future__ import annotations

from pathlib import Path

import pytest

from townapp import cli
from townapp.core.errors import DomainError
from townapp.db import open_database
from townapp.db.server import is_server_url, server_url, shown


@pytest.mark.parametrize("value, server", [
    ("postgresql://townapp@10.0.0.5/linyi", True),
    ("postgresql+psycopg2://u:p@h:5433/d", True),
    ("postgres://u@h/d", True),
    ("临晋镇.db", False),
    ("/home/文书/postgresql/临晋镇.db", False),
    ("C:\\数据\\临晋镇.db", False),
])
def test_a_url_names_a_server_and_a_path_a_file(value: str, server: bool) -> None:
    """GIVEN what a user wrote after --db WHEN it is read THEN a postgresql URL is a server, the rest files"""
    assert is_server_url(value) is server
    assert isinstance(cli.db_target(value), str if server else Path)


def test_the_password_never_shows_and_our_driver_is_used() -> None:
    """GIVEN a URL with a password and another driver WHEN it is shown or connected
    THEN the text has no password (and the same text as without one) and psycopg 3 is used"""
    url = server_url("postgresql+psycopg2://county:s3cret@10.0.0.5:5433/linyi")
    assert url.drivername == "postgresql+psycopg"
    assert "s3cret" not in shown(url) and "***" not in shown(url)
    assert shown(url) == shown("postgresql://county@10.0.0.5:5433/linyi") == "postgresql://county@10.0.0.5:5433/linyi"
    assert "s3cret" not in shown("postgresql://county:s3cret@[broken")


def test_a_url_without_a_database_name_is_refused_in_chinese() -> None:
    with pytest.raises(DomainError, match="缺少数据库名"):
        server_url("postgresql://county@10.0.0.5")


def test_an_unreachable_server_is_said_in_chinese() -> None:
    """GIVEN a server address where nothing listens WHEN it is opened THEN a Chinese message says so"""
    with pytest.raises(DomainError, match="无法连接服务器数据库.*服务器没有响应") as refused:
        open_database("postgresql://county:s3cret@127.0.0.1:1/linyi")
    assert "s3cret" not in refused.value.message


def test_the_environment_names_the_database_when_db_is_not_given(monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN TOWNAPP_DATABASE_URL WHEN a command is given without --db THEN it uses that database"""
    monkeypatch.setenv("TOWNAPP_DATABASE_URL", "postgresql://county@10.0.0.5/linyi")
    args = cli.build_parser().parse_args(["check"])
    assert args.db == "postgresql://county@10.0.0.5/linyi"

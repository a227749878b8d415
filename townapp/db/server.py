"""A county or prefecture server: the same schema on PostgreSQL (issue 22).

SQLite stays the township laptop's database; this module holds everything that is
PostgreSQL's own — how a ``--db`` value names a server, connecting (password from a
prompt or libpq's ``.pgpass``, never from a log), the per-township import lock, the
server's checks and its backups through ``pg_dump``. Nothing outside ``db/`` asks
which dialect it runs on except through ``Database.server``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import URL, Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError

from townapp.core.errors import DomainError

log = logging.getLogger(__name__)

ENV_URL = "TOWNAPP_DATABASE_URL"
SERVER_SCHEMES = ("postgresql", "postgres")
DRIVER = "postgresql+psycopg"
PasswordPrompt = Callable[[str], "str | None"]


def is_server_url(value: object) -> bool:
    """True for ``postgresql://…`` (any driver suffix): a server, not a database file."""
    if not isinstance(value, str) or "://" not in value:
        return False
    return value.split("://", 1)[0].split("+", 1)[0].lower() in SERVER_SCHEMES


def server_url(value: str | URL) -> URL:
    """The URL with our driver (psycopg 3), whatever the user wrote after ``postgresql``."""
    try:
        url = make_url(value) if isinstance(value, str) else value
    except ArgumentError:
        raise DomainError(f"服务器数据库地址写得不对：{shown(value)}。应写成 postgresql://用户名@服务器:端口/数据库名") from None
    if not url.database:
        raise DomainError(f"服务器数据库地址缺少数据库名：{shown(url)}（例如 postgresql://townapp@10.0.0.5/county）")
    return url.set(drivername=DRIVER)


def shown(value: str | URL) -> str:
    """The URL as it may appear on screen and in logs: never with its password."""
    if isinstance(value, URL):  # the same text however the password came (typed, PGPASSWORD, .pgpass)
        return value._replace(password=None, query={}).render_as_string(hide_password=True).replace("+psycopg", "")
    try:
        return shown(make_url(value))
    except ArgumentError:
        return "postgresql://…"  # unparseable: show nothing that might hold a password


def _driver_missing() -> DomainError:
    return DomainError("连接服务器数据库需要 psycopg 组件，本安装中没有。"
                       "请安装带服务器支持的版本（pip install \"townapp[server]\"）")


def _asks_for_password(exc: BaseException) -> bool:
    message = str(getattr(exc, "orig", exc)).lower()
    return "password" in message and ("no password supplied" in message or "authentication failed" in message)


def _plain_dates(dbapi_connection: object, _record: object) -> None:
    """A date known only to its month (core.dates.MonthDate) prints as 1978.02 — the spelling users see —
    and psycopg writes a date as its text: send the date itself (the 1st), as SQLite's driver does."""
    from psycopg.types.datetime import DateDumper

    from townapp.core.dates import MonthDate

    class IsoDateDumper(DateDumper):
        def dump(self, obj: object) -> bytes:
            return obj.isoformat().encode()  # type: ignore[attr-defined]

    dbapi_connection.adapters.register_dumper(MonthDate, IsoDateDumper)  # type: ignore[attr-defined]


def _chinese_reason(exc: BaseException) -> str:
    """The common reasons libpq gives, in Chinese (its own text, in English, goes to the log)."""
    message = str(getattr(exc, "orig", exc)).lower()
    for words, reason in (
            (("connection refused",), "服务器没有响应（地址或端口不对，或数据库服务没有启动）"),
            (("timeout", "timed out"), "连接超时（网络不通或服务器太忙）"),
            (("could not translate host name", "name or service not known", "nodename nor servname"),
             "找不到这个服务器名称"),
            (("does not exist",), "服务器上没有这个数据库或用户名"),
            (("no pg_hba.conf entry", "not permitted"), "服务器不允许本机连接（请管理员在 pg_hba.conf 中允许）"),
            (("too many connections",), "服务器的连接数已满")):
        if any(word in message for word in words):
            return reason
    return "连接失败"


def connect_engine(url: URL, ask_password: PasswordPrompt | None = None) -> Engine:
    """An engine whose first connection worked. Without a password in the URL, libpq reads ``PGPASSWORD``
    or ``~/.pgpass``; if the server still wants one, ``ask_password`` (a prompt) is asked once."""
    try:
        import psycopg  # noqa: F401  (only to say clearly that it is missing)
    except ImportError:
        raise _driver_missing() from None
    for attempt in range(2):
        engine = create_engine(url, future=True, pool_pre_ping=True,
                               connect_args={"application_name": "townapp", "connect_timeout": 10})
        event.listen(engine, "connect", _plain_dates)
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return engine
        except (OperationalError, DBAPIError) as exc:
            engine.dispose()
            if attempt == 0 and url.password is None and ask_password is not None and _asks_for_password(exc):
                password = ask_password(shown(url))
                if password:
                    url = url.set(password=password)
                    continue
            log.warning("无法连接服务器数据库 %s：%s", shown(url), str(getattr(exc, "orig", exc)).strip())
            if _asks_for_password(exc):
                raise DomainError(f"服务器数据库 {shown(url)} 拒绝登录：用户名或密码不对"
                                  "（密码可在提示时输入，或写在 .pgpass 文件中）") from None
            raise DomainError(f"无法连接服务器数据库 {shown(url)}：{_chinese_reason(exc)}。"
                              "请检查服务器地址、端口和网络，或联系服务器管理员") from None
    raise AssertionError("unreachable")


def has_foreign_tables(engine: Engine) -> list[str]:
    """Tables in the connected schema that townapp's schema does not have (another program's database)."""
    from sqlalchemy import inspect

    from townapp.schema import metadata

    with engine.connect() as conn:
        names = inspect(conn).get_table_names()
    return sorted(set(names) - set(metadata.tables) - {"alembic_version"})


# ----- ids ----------------------------------------------------------------------------
def reserve_ids(conn: Connection, table: str, count: int) -> list[int] | range:
    """``count`` new ids from the table's own sequence: unique however many imports run at once.
    Usually one unbroken run (told by its ends, not 200,000 rows sent back); when another session took
    values in between, the ids themselves."""
    if count <= 0:
        return []
    sequence = conn.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table}).scalar_one()
    first, last = conn.execute(text(
        "SELECT min(v), max(v) FROM (SELECT nextval(CAST(:s AS regclass)) AS v FROM generate_series(1, :n)) AS r"),
        {"s": sequence, "n": count}).one()
    if last - first + 1 == count:
        return range(first, last + 1)
    # interleaved with another session's: these are lost (gaps), a second block is taken value by value
    rows = conn.execute(text("SELECT nextval(CAST(:s AS regclass)) FROM generate_series(1, :n)"),
                        {"s": sequence, "n": count})
    return [row[0] for row in rows]


def advance_sequences(conn: Connection) -> None:
    """Every id sequence set past its table's largest id (after rows were written with ids of their own:
    a restore, the demo generator), so the next ordinary insert never collides. SQLite has no sequences:
    nothing to do there."""
    from townapp.schema import metadata

    if conn.dialect.name != "postgresql":
        return

    for table in metadata.sorted_tables:
        if "id" not in table.c or not table.c.id.primary_key:
            continue
        conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                          f"GREATEST((SELECT max(id) FROM \"{table.name}\"), 1), "
                          f"(SELECT max(id) FROM \"{table.name}\") IS NOT NULL)"))


# ----- one import per township at a time ----------------------------------------------
def township_lock_key(code: str) -> int:
    """A stable 63-bit key for PostgreSQL's advisory locks, from a township's code."""
    return int.from_bytes(hashlib.sha256(f"townapp-import:{code}".encode()).digest()[:8], "big") >> 1


def hold_township(conn: Connection, code: str) -> None:
    """Held until ``conn``'s transaction ends (``pg_advisory_xact_lock``): a second import of the same
    township waits for the first; other townships' imports run at the same time. SQLite: nothing to do
    (one writer holds the whole file)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": township_lock_key(code)})


# ----- backups: pg_dump ---------------------------------------------------------------
def pg_dump_backup(url: URL, folder: Path, reason: str) -> Path:
    """A ``pg_dump -Fc`` of the whole database into ``folder`` (the password through the environment,
    never on the command line). Refused with a clear message where pg_dump is not installed."""
    import datetime as dt

    dump = shutil.which("pg_dump")
    if dump is None:
        raise DomainError("本机没有 pg_dump，不能备份服务器数据库：服务器数据库由服务器管理员备份"
                          "（在服务器上运行 pg_dump），或在本机安装 PostgreSQL 客户端后再试")
    folder.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    target = folder / f"{url.database}-{stamp}-{reason}.dump"
    partial = target.with_suffix(".dump.part")
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    command = [dump, "-Fc", "--no-owner", "-f", str(partial), "-d", url.database or "",
               "-h", url.host or "localhost", "-p", str(url.port or 5432)]
    if url.username:
        command += ["-U", url.username]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        raise DomainError(f"pg_dump 备份失败：{done.stderr.strip()[:300]}")
    partial.replace(target)  # a crash leaves a .part, never a truncated dump under the final name
    return target


# ----- townapp check on a server ------------------------------------------------------
def open_for_check(value: str, ask_password: PasswordPrompt | None = None) -> Engine:
    """A connection for ``townapp check``: every transaction read-only, nothing migrated."""
    url = server_url(value)
    url = url.update_query_dict({"options": "-c default_transaction_read_only=on"})
    return connect_engine(url, ask_password)


def server_integrity(conn: Connection) -> tuple[list[str], int]:
    """PostgreSQL's own view of the data: constraints not validated (added NOT VALID), and rows whose
    foreign key names a missing parent (counted per foreign key of the models, whether or not the
    server enforces it). Returns (findings, orphan rows)."""
    from townapp.schema import metadata

    findings: list[str] = []
    unvalidated = conn.execute(text(
        "SELECT conrelid::regclass::text, conname FROM pg_constraint "
        "WHERE NOT convalidated AND connamespace = current_schema()::regnamespace")).fetchall()
    findings += [f"表 {table} 的约束 {name} 未经验证（NOT VALID），其中的数据可能不符合约束" for table, name in unvalidated]
    orphans = 0
    for table in metadata.sorted_tables:
        for fk in table.foreign_keys:
            child, parent = fk.parent, fk.column
            count = conn.execute(text(
                f'SELECT count(*) FROM "{table.name}" c WHERE c."{child.name}" IS NOT NULL AND NOT EXISTS '
                f'(SELECT 1 FROM "{parent.table.name}" p WHERE p."{parent.name}" = c."{child.name}")')).scalar_one()
            if count:
                orphans += count
                findings.append(f"外键错误：表 {table.name} 有 {count} 行的 {child.name} 引用的 {parent.table.name} "
                                "记录不存在")
    return findings, orphans


# ----- asking for a password in a terminal ----------------------------------------------
def terminal_prompt() -> PasswordPrompt | None:
    """A password prompt when a person is at the terminal (never echoed, never logged); None for scripts."""
    import sys

    if not (sys.stdin and sys.stdin.isatty()):
        return None

    def ask(where: str) -> str | None:
        import getpass

        return getpass.getpass(f"服务器数据库 {where} 的密码：") or None

    return ask


# ----- a whole database copied onto a server ---------------------------------------------
def copy_database(source: Engine, target: Engine, chunk: int = 20_000) -> dict[str, int]:
    """Every row of every townapp table from ``source`` (a township's or county's SQLite file) into
    ``target`` (an empty, migrated server database), parents before children, values converted by the
    models' types; then the sequences past the copied ids. One transaction: all or nothing.
    Returns the rows copied per table."""
    from sqlalchemy import select

    from townapp.db.fast import insert_many
    from townapp.schema import metadata

    copied: dict[str, int] = {}
    with source.connect() as read, target.begin() as write:
        for table in reversed(metadata.sorted_tables):  # what the migrations seeded gives way to the copy
            write.execute(table.delete())
        for table in metadata.sorted_tables:
            columns = [c.name for c in table.columns]
            result = read.execution_options(yield_per=chunk).execute(select(*table.columns))
            count = 0
            for rows in result.partitions(chunk):
                insert_many(write, table, columns, [tuple(row) for row in rows])
                count += len(rows)
            copied[table.name] = count
        write.execute(text("DELETE FROM alembic_version"))
        for (revision,) in read.execute(text("SELECT version_num FROM alembic_version")):
            write.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": revision})
        advance_sequences(write)
    return copied


# ----- a throwaway server (the bench; tests get theirs from .ci/postgres) ----------------
class ThrowawayCluster:
    """A PostgreSQL cluster of the machine's own server programs in a scratch folder, on 127.0.0.1,
    trusting local connections, stopped and deleted afterwards. Run as root, the server runs as the
    ``postgres`` user (it refuses root)."""

    def __init__(self, folder: Path, bin_dir: Path, port: int, as_user: list[str]) -> None:
        self.folder, self.bin_dir, self.port, self.as_user = folder, bin_dir, port, as_user
        self.url = f"postgresql://postgres@127.0.0.1:{port}/postgres"

    @classmethod
    def start(cls) -> ThrowawayCluster | None:
        """None where no server programs are installed or the cluster would not start."""
        import glob
        import socket
        import tempfile

        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
        if not found:
            return None
        bin_dir = Path(found[-1]).parent
        as_user: list[str] = []
        if os.name == "posix" and os.geteuid() == 0:
            if shutil.which("runuser") is None:
                return None
            as_user = ["runuser", "-u", "postgres", "--"]
        # in the system's temporary folder: the postgres user cannot reach into root's home
        folder = Path(tempfile.mkdtemp(prefix="townapp-postgresql-"))
        if as_user:
            shutil.chown(folder, "postgres")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        cluster = cls(folder, bin_dir, port, as_user)
        data = folder / "data"
        run = [*as_user, str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
               "--locale=C.UTF-8"]
        if subprocess.run(run, capture_output=True).returncode != 0:
            shutil.rmtree(folder, ignore_errors=True)
            return None
        settings = {"listen_addresses": "'127.0.0.1'", "port": str(port), "unix_socket_directories": f"'{folder}'",
                    "shared_buffers": "256MB"}
        with open(data / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
        started = subprocess.run([*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(folder / "server.log"),
                                  "-w", "start"], capture_output=True)
        if started.returncode != 0:
            cluster.stop()
            return None
        return cluster

    def stop(self) -> None:
        subprocess.run([*self.as_user, str(self.bin_dir / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "fast",
                        "-w", "stop"], capture_output=True)
        shutil.rmtree(self.folder, ignore_errors=True)


@contextmanager
def scratch_database(url: str) -> Iterator[str]:
    """A new empty database on the server of ``url`` (its role may create databases), dropped afterwards."""
    import psycopg

    base = server_url(url)
    name = f"townapp_scratch_{os.getpid()}"
    params = {"host": base.host, "port": base.port, "user": base.username, "password": base.password,
              "dbname": base.database}
    with psycopg.connect(**params, autocommit=True) as con:
        con.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        con.execute(f"CREATE DATABASE {name}")
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(**params, autocommit=True) as con:
            con.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

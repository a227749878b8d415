"""``townapp bench``: speed and memory against the bare libraries' floor, measured in the same run.

Timed tests are flaky on shared machines, so each figure is a ratio to a floor
measured right beside it on the same data: python-calamine reading the workbook +
one sqlite3 executemany of the very rows our import wrote into the same table of
an identical database copy (with the indexes any import must maintain; the
stricter floor into an unindexed scratch table is reported beside it), XlsxWriter
in constant-memory mode for the package, bare reportlab for certificates, the
bare backup API for the copy taken before an import, a bare QApplication +
QMainWindow for start-up. Every measurement runs in its own child process, so
its peak memory is its own (read with ``os.wait4``). Targets are data:
resources/bench/targets.json.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from pydantic import PositiveFloat, PositiveInt

from townapp import config
from townapp.core.resources import Resource, load

FIGURES = ("import_dry_run", "import", "export_package", "quarterly_return", "certificates_1000",
           "search_name", "search_pinyin", "search_id_tail", "startup")
# figures beyond the issue's: the copy an import takes first, and start-up until the first page has data
EXTRA_FIGURES = ("import_backup", "startup_ready")
# issue 22: the township's package imported into PostgreSQL, against the same import into SQLite in the same run
POSTGRES_FIGURE = "import_package_postgresql"
SHOWN_MARKER = "townapp-main-window-shown"
READY_MARKER = "townapp-main-window-ready"
CHILD_TIMEOUT_S = 1800
IMPORT_CACHE_MB = 64  # as townapp.exchange.pipeline.IMPORT_CACHE_MB (not imported: the parent stays small)


@dataclass
class Figure:
    name: str
    ours_s: float
    floor_s: float | None
    ratio: float | None
    target_ratio: float | None
    target_s: float | None
    peak_rss_mb: float
    ok: bool
    details: dict[str, float] = field(default_factory=dict)  # extra figures behind this one (an extension)


class _Goal(Resource):
    ratio: PositiveFloat | None = None  # at most this many times the floor measured in the same run
    seconds: PositiveFloat | None = None
    rss_mb: PositiveFloat | None = None  # this figure's own memory ceiling, where it is not the bench's


class BenchTargets(Resource):
    """resources/bench/targets.json: the goals ``townapp bench`` compares against."""

    resource_label: ClassVar[str] = "性能目标"
    rss_mb: PositiveFloat
    figures: dict[str, _Goal]
    import_rows: dict[str, PositiveInt]
    search_repeats: PositiveInt
    startup_repeats: PositiveInt


def targets() -> dict[str, Any]:
    return load(BenchTargets, "bench", "targets.json").model_dump(exclude_none=True)


# ----- the bench database and its inputs --------------------------------------------------
def bench_database(scale: str, say: Callable[[str], None]) -> Path:
    """The synthetic database for ``scale``, built once and reused while its schema is current."""
    from townapp.db import migrate, open_database

    folder = config.data_dir() / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"bench-{scale}.db"
    if path.exists():
        try:
            db = open_database(path, backup_before_migration=False)
            current = migrate.current_revision(db.engine)
            ready = db.meta("bench_ready") == "1" and current == migrate.head_revision()
            db.dispose()
            if ready:
                say(f"沿用已有的{scale}规模测试数据库：{path}")
                return path
        except Exception:  # noqa: BLE001 - any problem: rebuild it
            pass
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    say(f"正在生成{scale}规模测试数据库（只在第一次运行时生成）……")
    started = time.perf_counter()
    # in a child process: Linux carries a process's peak RSS over fork+exec into every child it starts
    # later, so the parent must stay small for the children's peak memory to be their own
    result = subprocess.run([sys.executable, "-m", "townapp", "demo", "--db", str(path), "--scale", scale,
                             "--seed", "1"], capture_output=True, text=True, encoding="utf-8", env=_env(folder))
    if result.returncode != 0:
        raise RuntimeError(f"生成测试数据库失败：{result.stderr[-1500:]}")
    con = sqlite3.connect(path)
    with con:
        con.execute("INSERT INTO app_meta(key, value) VALUES ('bench_ready', '1')")
    con.close()
    say(f"  生成用时 {time.perf_counter() - started:.1f} 秒")
    return path


def write_people_workbook(db_path: Path, out: Path, rows: int, seed: int = 7) -> None:
    """A 人员 sheet of ``rows`` new people in the villages of the database's township (IDs not yet registered)."""
    from openpyxl import Workbook

    from townapp.core.idcard import make_id_number

    con = sqlite3.connect(db_path)
    try:
        taken = {r[0] for r in con.execute("SELECT id_number FROM person")}
        root = con.execute("SELECT value FROM app_meta WHERE key = 'root_code'").fetchone()[0]
        villages = [r[0] for r in con.execute("SELECT v.code FROM village v JOIN township t ON t.id = v.township_id "
                                              "WHERE t.code = ? ORDER BY v.code", (root,))]
    finally:
        con.close()
    rng = random.Random(seed)
    surnames, given = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗", "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国"
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("人员")
    ws.append(["身份证号", "姓名", "性别", "出生日期", "民族", "联系电话", "村区划代码"])
    made = 0
    while made < rows:
        birth = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(0, 29000))
        number = make_id_number("140881", birth, rng.randrange(0, 1000))
        if number in taken:
            continue
        taken.add(number)
        sex = "男" if int(number[16]) % 2 else "女"
        name = rng.choice(surnames) + "".join(rng.choice(given) for _ in range(rng.choice((1, 2))))
        ws.append([number, name, sex, birth.isoformat(), "汉族", f"139{rng.randrange(10**8):08d}", rng.choice(villages)])
        made += 1
    wb.save(out)


# ----- what each child process measures ----------------------------------------------------
class _BackupTimer:
    """The pre-import backup (issue 9) timed apart from the import it precedes: its cost is the database's
    size. Installed on the pipeline module of this child process; ``seconds`` adds up its backups."""

    def __init__(self, pipeline: Any) -> None:
        self.seconds = 0.0
        self._take_backup = pipeline.backup_database
        pipeline.backup_database = self._timed

    def _timed(self, *args: Any, **kwargs: Any) -> Path:
        started = time.perf_counter()
        try:
            return self._take_backup(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - started


def _child_import(db_path: Path, work: Path, dry_run: bool) -> dict[str, float]:
    """Our import; a real one's pre-import backup (issue 9) is timed apart: its cost is the database's size."""
    from townapp.core.actor import CLI_ACTOR
    from townapp.db import open_database
    from townapp.exchange import pipeline
    from townapp.sheets import all_sheet_specs

    backups = _BackupTimer(pipeline)
    db = open_database(db_path)
    specs = all_sheet_specs()
    started = time.perf_counter()
    report = pipeline.run_import(db, work / "people.xlsx", specs, dry_run=dry_run, actor=CLI_ACTOR)
    elapsed = time.perf_counter() - started
    db.dispose()
    if not report.accepted:
        raise RuntimeError("测试工作簿未通过导入检查：" + report.summary_text(max_errors=5))
    return {"seconds": elapsed - backups.seconds, "backup_seconds": backups.seconds}


def _read_people_sheet(work: Path) -> list[list[Any]]:
    from python_calamine import CalamineWorkbook

    return CalamineWorkbook.from_path(str(work / "people.xlsx")).get_sheet_by_name("人员").to_python()[1:]


def _floor_import(work: Path) -> float:
    """calamine reading the file + one executemany of the very person rows our import wrote, into the
    same table of an identical copy of the database (its indexes are part of any import's work)."""
    con = sqlite3.connect(work / "import.db")
    try:
        columns = [r[1] for r in con.execute("PRAGMA table_info(person)")]
        before = int((work / "import-base-max-id.txt").read_text())
        written = con.execute(f"SELECT {', '.join(columns)} FROM person WHERE id > ? ORDER BY id", (before,)).fetchall()
    finally:
        con.close()
    target = sqlite3.connect(work / "floor.db")
    target.execute(f"PRAGMA cache_size=-{IMPORT_CACHE_MB * 1024}")  # the same page cache our import uses
    started = time.perf_counter()
    rows = _read_people_sheet(work)
    with target:
        target.executemany(f"INSERT INTO person ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                           written)
    elapsed = time.perf_counter() - started
    target.close()
    if len(rows) != len(written):
        raise RuntimeError(f"下限测量有误：工作簿 {len(rows)} 行，导入写入 {len(written)} 行")
    return elapsed


def _floor_import_unindexed(work: Path) -> float:
    """The stricter floor of the first bench: the file's cells into a new table without any index."""
    target = work / "floor-unindexed.db"
    target.unlink(missing_ok=True)
    started = time.perf_counter()
    rows = _read_people_sheet(work)
    con = sqlite3.connect(target)
    con.execute("CREATE TABLE person (id_number TEXT, name TEXT, sex TEXT, birth TEXT, ethnicity TEXT, "
                "phone TEXT, village TEXT)")
    with con:
        con.executemany("INSERT INTO person VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    con.close()
    return time.perf_counter() - started


def _floor_backup(work: Path) -> float:
    """The bare SQLite backup API copying the same database, without verifying the copy."""
    target = work / "floor-backup.db"
    target.unlink(missing_ok=True)
    started = time.perf_counter()
    source, copy = sqlite3.connect(work / "import-base.db"), sqlite3.connect(target)
    source.backup(copy)
    copy.close()
    source.close()
    elapsed = time.perf_counter() - started
    target.unlink()
    return elapsed


def _child_export(db_path: Path, work: Path) -> float:
    # what the export imports on first use is loaded before the clock, as the floor's xlsxwriter is
    # (a running app has it loaded when the user exports; a fresh child would compile it here)
    import townapp.county.downward  # noqa: F401
    import townapp.county.service  # noqa: F401
    import townapp.county.upward  # noqa: F401
    import townapp.figures  # noqa: F401
    from townapp.core.actor import CLI_ACTOR
    from townapp.db import open_database
    from townapp.exchange.package import write_package
    from townapp.sheets import package_sheet_specs
    db = open_database(db_path)
    started = time.perf_counter()
    write_package(db, package_sheet_specs(db), work / "package.xlsx", actor=CLI_ACTOR)
    elapsed = time.perf_counter() - started
    db.dispose()
    return elapsed


def _floor_export(work: Path) -> float:
    """xlsxwriter in constant-memory mode writing the package's cells, nothing else."""
    import xlsxwriter
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(str(work / "package.xlsx"))
    sheets = [(name, book.get_sheet_by_name(name).to_python()) for name in book.sheet_names]
    started = time.perf_counter()
    wb = xlsxwriter.Workbook(str(work / "floor-package.xlsx"), {"constant_memory": True})
    for name, rows in sheets:
        ws = wb.add_worksheet(name)
        for number, row in enumerate(rows):
            ws.write_row(number, 0, row)
    wb.close()
    return time.perf_counter() - started


def _child_search(db_path: Path, kind: str, repeats: int) -> float:
    """Median time of the people table's own query (ordered ids + first page of rows)."""
    from townapp.core.actor import CLI_ACTOR
    from townapp.core.pinyin import initials
    from townapp.db import open_database
    from townapp.registry.dto import SearchFilter
    from townapp.registry.service import RegistryService

    db = open_database(db_path)
    con = sqlite3.connect(db_path)
    name, number = con.execute("SELECT name, id_number FROM person ORDER BY id LIMIT 1 OFFSET 1000").fetchone()
    con.close()
    text = {"search_name": name, "search_pinyin": initials(name), "search_id_tail": number[-4:]}[kind]
    service = RegistryService(db, CLI_ACTOR)
    page_size = 100
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        ids = service.person_ids(SearchFilter(text=text))
        service.person_rows(ids[:page_size])
        times.append(time.perf_counter() - started)
        if not ids:
            raise RuntimeError(f"查找“{text}”没有结果")
    db.dispose()
    return statistics.median(times)


def _child_quarterly(db_path: Path, work: Path) -> float:
    """The quarter's return for the whole database (xlsx), as ``townapp export quarterly`` makes it."""
    from townapp.core.actor import CLI_ACTOR
    from townapp.db import open_database
    from townapp.figures import figure_registry, unit_source
    from townapp.outputs.figures import Period
    from townapp.outputs.quarterly import ReturnService

    db = open_database(db_path)
    # made before the clock starts, as the 季度报表 page makes it when it opens: the wait starts at the button
    service = ReturnService(db, figure_registry(db), unit_source(), CLI_ACTOR)
    started = time.perf_counter()
    service.export(service.build(Period(2026, 2)), work / "quarterly.xlsx", None)
    elapsed = time.perf_counter() - started
    db.dispose()
    return elapsed


def _certificate_batch(db_path: Path, count: int) -> Any:
    """``count`` 星级文明户 certificates for real people of the database (names, villages)."""
    from townapp.outputs.certificates import CertificateBatch, CertificateItem

    con = sqlite3.connect(db_path)
    try:
        rows = con.execute("SELECT p.id, p.name, v.name FROM person p JOIN village v ON v.id = p.village_id "
                           "ORDER BY p.id LIMIT ?", (count,)).fetchall()
        township = con.execute("SELECT value FROM app_meta WHERE key = 'root_name'").fetchone()[0]
    finally:
        con.close()
    honours = ("三星级", "四星级", "五星级")  # the layout adds 文明户, as for the real 定级 levels
    items = tuple(CertificateItem(f"bench:{pid}", name, village, honours[pid % 3]) for pid, name, village in rows)
    return CertificateBatch("household-star", "bench", "性能测试", 2026, township, items)


def _child_certificates(db_path: Path, work: Path, floor: bool) -> float:
    from townapp.core.actor import CLI_ACTOR
    from townapp.db import open_database
    from townapp.outputs.certificates import CertificateService, field_values, layout, printed_texts

    batch = _certificate_batch(db_path, 1000)
    if floor:  # bare reportlab: the same strings, the same embedded font, one page each
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.ttfonts import TTFont
        from reportlab.pdfgen.canvas import Canvas

        lay = layout(batch.kind)
        pages = [printed_texts(lay, field_values(batch, item, f"B{n:06d}", dt.date(2026, 11, 1)), False)
                 for n, item in enumerate(batch.items)]
        started = time.perf_counter()
        pdfmetrics.registerFont(TTFont("BenchCJK", str(config.resource("fonts", "wqy-microhei.ttc")),
                                       subfontIndex=0))
        canvas = Canvas(str(work / "floor-certificates.pdf"), pagesize=(lay.width_mm * 2.8346, lay.height_mm * 2.8346))
        for texts in pages:
            canvas.setFont("BenchCJK", 16)
            for line, text in enumerate(texts):
                canvas.drawString(60, 500 - 24 * line, text)
            canvas.showPage()
        canvas.save()
        return time.perf_counter() - started
    db = open_database(db_path)
    started = time.perf_counter()
    CertificateService(db, CLI_ACTOR).write_batch(batch, work / "certificates.pdf", record=False)
    elapsed = time.perf_counter() - started
    db.dispose()
    return elapsed


def _child_package_import(db_path: Path, work: Path, target: str) -> dict[str, float]:
    """The package written by ``export_package`` imported into a new database of the bench township:
    ``target`` "sqlite" (a new file; its pre-import backup timed apart) or a server URL (empty database)."""
    import townapp.sheets  # noqa: F401  (loaded before the clock, as the app has it when the user imports)
    from townapp.core.actor import CLI_ACTOR
    from townapp.create import create_database
    from townapp.exchange import pipeline
    from townapp.sheets import all_sheet_specs, package_sheet_specs

    con = sqlite3.connect(db_path)
    try:
        name, code = (con.execute("SELECT value FROM app_meta WHERE key = ?", (key,)).fetchone()[0]
                      for key in ("root_name", "root_code"))
    finally:
        con.close()
    backups = _BackupTimer(pipeline)
    location: Path | str = target if target != "sqlite" else work / "package-import.db"
    if isinstance(location, Path):
        for leftover in work.glob("package-import.db*"):
            leftover.unlink()
    db = create_database(location, "township", name, code, CLI_ACTOR)
    specs = [*all_sheet_specs(), *package_sheet_specs(db, receiving=True)]
    started = time.perf_counter()
    report = pipeline.run_import(db, work / "package.xlsx", specs, dry_run=False, actor=CLI_ACTOR)
    elapsed = time.perf_counter() - started
    db.dispose()
    if not report.accepted:
        raise RuntimeError("数据包未能导入：" + report.summary_text(max_errors=5))
    return {"seconds": elapsed - backups.seconds, "backup_seconds": backups.seconds}


def _child_prepare(db_path: Path, work: Path, rows: int) -> float:
    write_people_workbook(db_path, work / "people.xlsx", rows)
    return 0.0


CHILDREN: dict[str, Callable[[Path, Path, dict[str, Any]], float | dict[str, float]]] = {
    "prepare_workbook": lambda db, work, t: _child_prepare(db, work, int(os.environ["TOWNAPP_BENCH_ROWS"])),
    "import_dry_run": lambda db, work, t: _child_import(work / "import-base.db", work, True),
    "import": lambda db, work, t: _child_import(work / "import.db", work, False),
    "floor_import": lambda db, work, t: _floor_import(work),
    "floor_import_unindexed": lambda db, work, t: _floor_import_unindexed(work),
    "floor_backup": lambda db, work, t: _floor_backup(work),
    "export_package": lambda db, work, t: _child_export(db, work),
    "floor_export": lambda db, work, t: _floor_export(work),
    "quarterly_return": lambda db, work, t: _child_quarterly(db, work),
    "certificates_1000": lambda db, work, t: _child_certificates(db, work, False),
    "floor_certificates": lambda db, work, t: _child_certificates(db, work, True),
    "search_name": lambda db, work, t: _child_search(db, "search_name", t["search_repeats"]),
    "search_pinyin": lambda db, work, t: _child_search(db, "search_pinyin", t["search_repeats"]),
    "search_id_tail": lambda db, work, t: _child_search(db, "search_id_tail", t["search_repeats"]),
    "package_import_sqlite": lambda db, work, t: _child_package_import(db, work, "sqlite"),
    "package_import_postgresql": lambda db, work, t: _child_package_import(db, work, os.environ["TOWNAPP_BENCH_PG"]),
}


def child_main(argv: list[str]) -> int:
    """``python -m townapp.bench NAME DB WORK``: run one measurement, print its seconds as JSON."""
    name, db_path, work = argv[0], Path(argv[1]), Path(argv[2])
    result = CHILDREN[name](db_path, work, targets())
    print(json.dumps(result if isinstance(result, dict) else {"seconds": result}))
    return 0


# ----- the parent: run children, time the GUI, compare -------------------------------------
def _env(work: Path) -> dict[str, str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONIOENCODING": "utf-8",
           "TOWNAPP_DATA_DIR": str(work / "data")}
    checkout = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = checkout + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def _peak_rss_mb(usage: Any) -> float:
    kilobytes = usage.ru_maxrss / (1024 if sys.platform == "darwin" else 1)
    return round(kilobytes / 1024, 1)


def _run_child(command: list[str], env: dict[str, str], work: Path) -> tuple[int, str, str, float]:
    """Run a child to the end; its output goes to files (a full pipe would stall it while we wait4)."""
    out_path, err_path = work / "child.out", work / "child.err"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, env=env)
        _pid, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    return (process.returncode, out_path.read_text("utf-8", "replace"), err_path.read_text("utf-8", "replace"),
            _peak_rss_mb(usage))


def _measure(name: str, db_path: Path, work: Path) -> tuple[float, float]:
    """Seconds and peak RSS of one child measurement, each in a fresh process."""
    seconds, peak, _extra = _measure_all(name, db_path, work)
    return seconds, peak


def _measure_all(name: str, db_path: Path, work: Path) -> tuple[float, float, dict[str, float]]:
    code, out, err, peak = _run_child([sys.executable, "-m", "townapp.bench", name, str(db_path), str(work)],
                                      _env(work), work)
    if code != 0:
        raise RuntimeError(f"测量 {name} 失败：{err[-1500:]}")
    result = json.loads(out.strip().splitlines()[-1])
    return result["seconds"], peak, result




def _time_to_window(command: list[str], env: dict[str, str], work: Path) -> tuple[float, float, float]:
    """Seconds from launch to the window shown and to its first page ready (as printed), and peak RSS."""
    started = time.time()
    _code, out, err, peak = _run_child(command, {**env, "TOWNAPP_QUIT_AFTER_SHOWN": "1"}, work)
    shown = ready = None
    for line in out.splitlines():
        if line.startswith(SHOWN_MARKER + " "):
            shown = float(line.split()[1]) - started
        elif line.startswith(READY_MARKER + " "):
            ready = float(line.split()[1]) - started
    if shown is None:
        raise RuntimeError(f"程序没有报告主窗口已显示：{err[-800:]}")
    return shown, ready if ready is not None else shown, peak


def _startup(db_path: Path, work: Path, repeats: int) -> dict[str, tuple[float, float | None, float]]:
    """Launch → main window shown (against a bare window) and → first page filled with data."""
    env = _env(work)
    shown, ready, floor, peaks = [], [], [], []
    bare = str(config.resource("bench", "bare_start.py"))  # the floor: an empty window, nothing else
    for _ in range(repeats):
        ours_shown, ours_ready, peak = _time_to_window(
            [sys.executable, "-m", "townapp", "--demo", "--db", str(db_path)], env, work)
        shown.append(ours_shown)
        ready.append(ours_ready)
        peaks.append(peak)
        floor.append(_time_to_window([sys.executable, bare, SHOWN_MARKER], env, work)[0])
    return {"startup": (statistics.median(shown), statistics.median(floor), max(peaks)),
            "startup_ready": (statistics.median(ready), None, max(peaks))}


def _copy_database(source: Path, target: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    src, copy = sqlite3.connect(source), sqlite3.connect(target)
    src.backup(copy)
    src.close()
    copy.close()


def _prepare_import_base(db_path: Path, work: Path) -> None:
    """The database the workbook goes into: a copy of the bench database, as its township.

    A county database only takes townships' packages; a person workbook is a
    township's import. At county scale the copy is opened as its largest
    township, so the rows go into tables and indexes of county size.
    """
    base = work / "import-base.db"
    _copy_database(db_path, base)
    con = sqlite3.connect(base)
    try:
        with con:
            if con.execute("SELECT value FROM app_meta WHERE key = 'mode'").fetchone()[0] == "county":
                code, name = con.execute(
                    "SELECT t.code, t.name FROM township t JOIN village v ON v.township_id = t.id "
                    "GROUP BY t.id ORDER BY count(*) DESC, t.code LIMIT 1").fetchone()
                con.execute("UPDATE app_meta SET value = 'township' WHERE key = 'mode'")
                con.execute("UPDATE app_meta SET value = ? WHERE key = 'root_code'", (code,))
                con.execute("UPDATE app_meta SET value = ? WHERE key = 'root_name'", (name,))
        max_id = con.execute("SELECT coalesce(max(id), 0) FROM person").fetchone()[0]
    finally:
        con.close()
    (work / "import-base-max-id.txt").write_text(str(max_id))


def _postgres_package_import(db_path: Path, work: Path, say: Callable[[str], None]
                             ) -> tuple[float, float, float, dict[str, float]] | None:
    """The package import on PostgreSQL and on SQLite, one after the other in this run (issue 22). The server:
    TOWNAPP_BENCH_PG_URL (or the tests' TOWNAPP_TEST_PG_URL), else a throwaway cluster of Debian's
    PostgreSQL started here; none at all: the figure is left out and said so."""
    from townapp.db.server import ThrowawayCluster, scratch_database

    cluster = None
    url = os.environ.get("TOWNAPP_BENCH_PG_URL") or os.environ.get("TOWNAPP_TEST_PG_URL")
    if not url:
        cluster = ThrowawayCluster.start()
        if cluster is None:
            say(f"跳过 {POSTGRES_FIGURE}：本机没有 PostgreSQL 服务器（设置 TOWNAPP_BENCH_PG_URL，或安装 postgresql）")
            return None
        url = cluster.url
    say(f"测量 {POSTGRES_FIGURE} ……")
    try:
        sqlite_s, sqlite_peak, extra = _measure_all("package_import_sqlite", db_path, work)
        with scratch_database(url) as target:
            os.environ["TOWNAPP_BENCH_PG"] = target
            ours, peak, _ = _measure_all("package_import_postgresql", db_path, work)
    finally:
        if cluster is not None:
            cluster.stop()
    say(f"  PostgreSQL {ours:.2f} 秒，SQLite {sqlite_s:.2f} 秒（SQLite 另有导入前备份 {extra['backup_seconds']:.2f} 秒）")
    return ours, sqlite_s, max(peak, sqlite_peak), {"sqlite_backup_s": round(extra["backup_seconds"], 4)}


def run_bench(scale: str = "township", json_out: Path | None = None,
              say: Callable[[str], None] = print) -> dict[str, Any]:
    """Measure every figure; returns (and writes) the JSON of issue 11."""
    if scale not in ("township", "county"):
        raise ValueError(scale)
    goals = targets()
    db_path = bench_database(scale, say)
    work = config.data_dir() / "bench" / f"work-{scale}"
    shutil.rmtree(work, ignore_errors=True)
    (work / "data").mkdir(parents=True)
    rows = goals["import_rows"][scale]
    say(f"准备 {rows} 行的人员工作簿……")
    _prepare_import_base(db_path, work)
    os.environ["TOWNAPP_BENCH_ROWS"] = str(rows)
    _measure("prepare_workbook", work / "import-base.db", work)

    measured: dict[str, tuple[float, float | None, float]] = {}
    details: dict[str, dict[str, float]] = {}
    say("测量 import_dry_run ……")
    dry, dry_peak = _measure("import_dry_run", db_path, work)
    say("测量 import ……")
    _copy_database(work / "import-base.db", work / "import.db")
    real, real_peak, extra = _measure_all("import", db_path, work)
    _copy_database(work / "import-base.db", work / "floor.db")
    floor = _measure("floor_import", db_path, work)[0]
    unindexed = _measure("floor_import_unindexed", db_path, work)[0]
    say(f"  试导入 {dry:.2f} 秒，正式导入 {real:.2f} 秒（另有导入前备份 {extra['backup_seconds']:.2f} 秒），"
        f"下限 {floor:.2f} 秒（无索引的临时表 {unindexed:.2f} 秒）")
    measured["import_dry_run"] = (dry, floor, dry_peak)
    measured["import"] = (real, floor, real_peak)
    for name, ours in (("import_dry_run", dry), ("import", real)):
        details[name] = {"floor_unindexed_s": round(unindexed, 4), "ratio_unindexed": round(ours / unindexed, 2)}
    measured["import_backup"] = (extra["backup_seconds"], _measure("floor_backup", db_path, work)[0], real_peak)
    for name, floor_name in (("export_package", "floor_export"), ("quarterly_return", None),
                             ("certificates_1000", "floor_certificates"), ("search_name", None),
                             ("search_pinyin", None), ("search_id_tail", None)):
        say(f"测量 {name} ……")
        ours, peak = _measure(name, db_path, work)
        floor_s = _measure(floor_name, db_path, work)[0] if floor_name else None
        say(f"  本程序 {ours:.3f} 秒" + (f"，下限 {floor_s:.3f} 秒" if floor_s else ""))
        measured[name] = (ours, floor_s, peak)
    say("测量 startup ……")
    measured.update(_startup(db_path, work, goals["startup_repeats"]))
    measured_names = list(FIGURES + EXTRA_FIGURES)
    if scale == "township":
        postgres = _postgres_package_import(db_path, work, say)
        if postgres is not None:
            measured[POSTGRES_FIGURE] = postgres[:3]
            details[POSTGRES_FIGURE] = postgres[3]
            measured_names.append(POSTGRES_FIGURE)

    figures = []
    for name in measured_names:
        ours, floor_s, peak = measured[name]
        goal = goals["figures"].get(name, {})
        ratio = round(ours / floor_s, 2) if floor_s else None
        ok = peak <= goal.get("rss_mb", goals["rss_mb"])
        if goal.get("ratio") is not None and ratio is not None:
            ok = ok and ratio <= goal["ratio"]
        if goal.get("seconds") is not None:
            ok = ok and ours <= goal["seconds"]
        figures.append(Figure(name, round(ours, 4), round(floor_s, 4) if floor_s else None, ratio, goal.get("ratio"),
                              goal.get("seconds"), peak, ok, details.get(name, {})))
    result = {"scale": scale, "machine": machine_description(),
              "figures": [asdict(f) for f in figures]}
    say(format_table(result))
    if json_out is not None:
        from townapp.core.atomic import write_bytes_atomic

        write_bytes_atomic(json_out, json.dumps(result, ensure_ascii=False, indent=1).encode("utf-8"))
        say(f"结果已写入：{json_out}")
    return result


def machine_description() -> str:
    return (f"{platform.system()} {platform.machine()}, {os.cpu_count()} 核, Python {platform.python_version()}, "
            f"SQLite {sqlite3.sqlite_version}")


def format_table(result: dict[str, Any]) -> str:
    lines = [f"规模：{result['scale']}　机器：{result['machine']}",
             f"{'项目':<20}{'本程序(秒)':>12}{'下限(秒)':>10}{'倍数':>8}{'目标':>12}{'峰值内存MB':>12}  结果"]
    for f in result["figures"]:
        goal = f"≤{f['target_ratio']}x" if f["target_ratio"] else ""
        if f["target_s"]:
            goal += ("，" if goal else "") + f"≤{f['target_s']}s"
        lines.append(f"{f['name']:<20}{f['ours_s']:>12.3f}{(f['floor_s'] or 0):>10.3f}"
                     f"{(f['ratio'] or 0):>8.2f}{goal:>12}{f['peak_rss_mb']:>12.1f}  {'达标' if f['ok'] else '未达标'}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(child_main(sys.argv[1:]))

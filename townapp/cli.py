"""The command line (DESIGN §8). Parses, builds objects, calls services; no business logic.

Exit codes: 0 ok, 1 data rejected or check failed, 2 usage error, 3 unexpected failure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from townapp import APP_TITLE, config, version
from townapp.core.errors import DomainError

log = logging.getLogger("townapp.cli")

EXIT_OK, EXIT_REJECTED, EXIT_USAGE, EXIT_UNEXPECTED = 0, 1, 2, 3


_ARGPARSE_ZH = {
    "usage: ": "用法：",
    "options": "选项",
    "positional arguments": "位置参数",
    "show this help message and exit": "显示本帮助并退出",
    "show program's version number and exit": "显示版本号并退出",
    "the following arguments are required: %s": "缺少必填参数：%s",
    "unrecognized arguments: %s": "无法识别的参数：%s",
    "invalid choice: %(value)r (choose from %(choices)s)": "无效的选项：%(value)r（可选：%(choices)s）",
    "argument %(argument_name)s: %(message)s": "参数 %(argument_name)s：%(message)s",
    "expected one argument": "需要一个值",
    "invalid %(type)s value: %(value)r": "无效的%(type)s值：%(value)r",
    "not allowed with argument %s": "不能与参数 %s 同时使用",
    "one of the arguments %s is required": "参数 %s 必须填写其中之一",
}


def _translate_argparse(message: str) -> str:
    return _ARGPARSE_ZH.get(message, message)


argparse._ = _translate_argparse  # type: ignore[attr-defined]  # argparse looks its messages up via _()


class ChineseArgumentParser(argparse.ArgumentParser):
    """argparse with Chinese usage errors (exit code 2 as argparse always does)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"用法错误：{message}\n运行 townapp --help 查看说明。\n")


class _VersionAction(argparse.Action):
    """``--version``: the version is looked up only when asked for (package metadata costs start-up time)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: object,
                 option_string: str | None = None) -> None:
        print(f"townapp {version()}")  # on standard output, as argparse's own version action does
        parser.exit()


DATABASE_URL_ENV = "TOWNAPP_DATABASE_URL"  # the same as townapp.db.server.ENV_URL (not imported: start-up time)
DB_HELP = "数据库文件，或服务器数据库地址 postgresql://用户名@服务器:端口/数据库名（密码在提示时输入或写在 .pgpass 中）"


def _add_db(parser: argparse.ArgumentParser) -> None:
    """``--db``: a file or a server URL; ``TOWNAPP_DATABASE_URL`` stands in for it when it is not given."""
    default = os.environ.get(DATABASE_URL_ENV) or None
    parser.add_argument("--db", required=default is None, default=default, help=DB_HELP)


def db_target(value: str) -> Path | str:
    """What ``--db`` names: a server URL as written, or a file path. (The test of townapp.db.server.is_server_url,
    without importing the database layer: the GUI's start must not load it before the window shows.)"""
    scheme = value.split("://", 1)[0].split("+", 1)[0].lower() if "://" in value else ""
    return value if scheme in ("postgresql", "postgres") else Path(value)


def build_parser() -> argparse.ArgumentParser:
    parser = ChineseArgumentParser(prog="townapp", description=f"{APP_TITLE}（不带子命令时打开图形界面）")
    parser.add_argument("--version", action=_VersionAction, nargs=0, help="显示版本号并退出")
    parser.add_argument("--db", default=os.environ.get(DATABASE_URL_ENV) or None,
                        help="数据库文件（默认在数据文件夹中），或服务器数据库地址 postgresql://用户名@服务器/数据库名")
    parser.add_argument("--demo", action="store_true", help="打开演示数据库（首次使用时自动生成）")
    sub = parser.add_subparsers(dest="command", parser_class=ChineseArgumentParser, metavar="命令")

    init = sub.add_parser("init", help="新建一个空数据库")
    _add_db(init)
    root = init.add_mutually_exclusive_group(required=True)
    root.add_argument("--township", metavar="乡镇名称")
    root.add_argument("--county", metavar="县名称")
    init.add_argument("--code", required=True, help="区划代码（乡镇9位或12位，县6位）")
    init.add_argument("--village", metavar="村区划代码",
                      help="村级安装：村录入员自己的电脑，只有这一个村（与 --township、--village-name 同用）")
    init.add_argument("--village-name", metavar="村名称")
    init.set_defaults(handler=cmd_init)

    demo = sub.add_parser("demo", help="生成演示数据库")
    _add_db(demo)
    demo.add_argument("--scale", choices=("township", "county"), default="township")
    demo.add_argument("--seed", type=int, default=1)
    demo.add_argument("--as-of", dest="as_of", type=_as_of_date, default=None,
                      help="演示数据截止日期 YYYY-MM-DD（默认今天；同一种子和日期生成相同的数据）")
    demo.set_defaults(handler=cmd_demo)

    check = sub.add_parser("check", help="检查数据库完整性和数据一致性")
    _add_db(check)
    check.add_argument("--json", action="store_true", help="输出 JSON")
    check.set_defaults(handler=cmd_check)

    yearend = sub.add_parser("yearend", help="年度结转：列出清单，或（--close）结转")
    _add_db(yearend)
    yearend.add_argument("--year", type=int, required=True)
    yearend.add_argument("--close", action="store_true", help="清单办完时结转该年度（确定积分等次、结转余额、生成整改事项）")
    yearend.add_argument("--on", type=_as_of_date, default=None, help="结转日期 YYYY-MM-DD（默认今天）")
    yearend.set_defaults(handler=cmd_yearend)

    backup = sub.add_parser("backup", help="备份数据库")
    _add_db(backup)
    backup.add_argument("--out", help="备份到的文件夹（默认为数据文件夹中的 backups）")
    backup.set_defaults(handler=cmd_backup)

    restore = sub.add_parser("restore", help="从备份恢复数据库（先备份当前数据，恢复后检查）")
    _add_db(restore)
    restore.add_argument("--from", dest="source", required=True, metavar="FILE", help="备份文件")
    restore.set_defaults(handler=cmd_restore)

    selftest = sub.add_parser("selftest", help="自检：字体、Qt、数据库升级、Excel、PDF、图表在本机能否正常工作")
    selftest.add_argument("--json", action="store_true", help="输出 JSON")
    selftest.add_argument("--qt-probe", help=argparse.SUPPRESS)  # internal: the Qt check's child process
    selftest.set_defaults(handler=cmd_selftest)

    archive = sub.add_parser("archive", help="打印一村一档（PDF）")
    _add_db(archive)
    archive.add_argument("--village", required=True, metavar="区划代码", help="村的12位区划代码")
    archive.add_argument("--out", required=True, help="输出的PDF文件")
    archive.set_defaults(handler=cmd_archive)

    certificates = sub.add_parser("certificates", help="打印证书（PDF）：某年度已定级的评定或最美网格员")
    _add_db(certificates)
    certificates.add_argument("--kind", required=True, choices=("household-star", "secretary-star",
                                                                "organization-star", "excellent-member", "grid-star"))
    certificates.add_argument("--year", type=int, required=True)
    certificates.add_argument("--out", required=True, help="输出的PDF文件")
    certificates.add_argument("--overlay", action="store_true", help="套打：只打印文字，用于预先印好的空白证书")
    certificates.add_argument("--printer", default="", help="套打时使用哪台打印机的校准偏移（默认：“默认”）")
    certificates.set_defaults(handler=cmd_certificates)

    bench = sub.add_parser("bench", help="性能测试：与裸库下限在同一次运行中对比")
    bench.add_argument("--scale", choices=("township", "county"), default="township")
    bench.add_argument("--json", dest="json_out", metavar="OUT", help="把结果写成 JSON 文件")
    bench.set_defaults(handler=cmd_bench)

    _add_exchange_commands(sub)
    return parser


def _exchange(name: str) -> Callable[[argparse.Namespace], int]:
    """A handler from townapp.exchange.commands, imported only when that command runs (the exchange pulls
    in every module's sheet specs: seconds the GUI start should not pay). cli.py is the composition root
    that hands the exchange the sheets (townapp.sheets); the exchange never imports a module."""

    def handler(args: argparse.Namespace) -> int:
        from townapp.exchange import commands
        from townapp.sheets import all_sheet_specs, elsewhere_sheet_specs, package_sheet_specs

        if name == "import_command":
            return commands.import_command(args, sheet_specs=all_sheet_specs, elsewhere=elsewhere_sheet_specs,
                                           package_specs=lambda db: package_sheet_specs(db, receiving=True))
        if name == "export_package_command":
            return commands.export_package_command(args, sheet_specs=all_sheet_specs,
                                                   package_specs=package_sheet_specs)
        return commands.export_template_command(args, sheet_specs=all_sheet_specs)

    return handler


def _add_exchange_commands(sub: argparse._SubParsersAction) -> None:
    """import / export are served by townapp.exchange.commands."""
    imp = sub.add_parser("import", help="导入 Excel 文件（先试导入检查）")
    _add_db(imp)
    imp.add_argument("file", metavar="FILE")
    imp.add_argument("--dry-run", action="store_true", help="只检查并报告，不修改数据库")
    imp.add_argument("--report", help="把导入报告写到 .xlsx 或 .json 文件")
    imp.add_argument("--mapping", help="列对应文件（.json）：确认各工作表是什么表、每列对应哪个字段；"
                                       "其中 save_as 给出名称时，导入成功后保存为列对应，下次同样的表自动使用")
    imp.add_argument("--password", help="加密文件（如加密的同步数据包）的打开密码；不写时在终端中询问")
    imp.set_defaults(handler=_exchange("import_command"))

    export = sub.add_parser("export", help="导出模板、同步数据包等")
    kinds = export.add_subparsers(dest="export_kind", parser_class=ChineseArgumentParser, metavar="类型",
                                  required=True)
    template = kinds.add_parser("template", help="导出空白导入模板")
    template.add_argument("--out", required=True)
    template.set_defaults(handler=_exchange("export_template_command"))
    package = kinds.add_parser("package", help="导出报送县里的同步数据包")
    _add_db(package)
    target = package.add_mutually_exclusive_group(required=True)
    target.add_argument("--out", help="数据包文件（.xlsx）")
    target.add_argument("--out-dir", dest="out_dir", help="保存到这个文件夹（如U盘），文件名按"
                                                         "“单位_年份第N季度_同步数据包_日期.xlsx”自动取")
    protection = package.add_mutually_exclusive_group()
    protection.add_argument("--password", help="用这个密码加密数据包（Excel、WPS 输入密码即可打开）；"
                                               "不写时在终端中询问")
    protection.add_argument("--no-password", action="store_true", help="不加密（不建议：数据包含完整身份证号）")
    package.set_defaults(handler=_exchange("export_package_command"))
    quarterly = kinds.add_parser("quarterly", help="导出季度报表（Excel，可同时导出带图表的PDF）")
    _add_db(quarterly)
    quarterly.add_argument("--year", type=int, required=True)
    quarterly.add_argument("--quarter", type=int, choices=(1, 2, 3, 4), required=True)
    quarterly.add_argument("--out", required=True, help="输出的 .xlsx 文件")
    quarterly.add_argument("--pdf", help="同时输出的 PDF 文件")
    quarterly.add_argument("--township", metavar="区划代码",
                           help="县级数据库：只导出这个乡镇的报表（每村一行，与乡镇自己的报表逐格一致）")
    quarterly.set_defaults(handler=cmd_export_quarterly)
    back = kinds.add_parser("return", help="县级：导出给一个乡镇的回传数据包（县级联审等环节的结果）")
    _add_db(back)
    back.add_argument("--township", required=True, metavar="区划代码")
    back.add_argument("--out", required=True, help="输出的 .xlsx 文件")
    back.add_argument("--password", help="打开密码（至少6位）；不给则不加密")
    back.set_defaults(handler=cmd_export_return)
    down = kinds.add_parser("village", help="乡镇：导出下发给一个村级安装的数据包（积分规则、评定方案、本村评定结果）")
    _add_db(down)
    down.add_argument("--village", required=True, metavar="村区划代码")
    down.add_argument("--out", required=True, help="输出的 .xlsx 文件")
    down.add_argument("--password", help="打开密码（至少6位）；不给则不加密")
    down.set_defaults(handler=cmd_export_village)


# ----- handlers ---------------------------------------------------------------
def cmd_init(args: argparse.Namespace) -> int:
    from townapp.core.actor import CLI_ACTOR
    from townapp.create import create_database

    path = db_target(args.db)
    mode, name = ("county", args.county) if args.county else ("township", args.township)
    village = None
    if args.village or args.village_name:
        if not (args.village and args.village_name) or mode == "county":
            print("村级安装须同时给出 --township 乡镇名称 --code 乡镇区划代码 --village 村区划代码 --village-name 村名称")
            return EXIT_USAGE
        village = (args.village, args.village_name)
    db = create_database(path, mode, name, args.code, CLI_ACTOR, village)
    path = db.location
    db.dispose()
    if village is not None:
        print(f"已新建村级数据库：{path}（{name} {village[1]}，{village[0]}）。"
              "在这里录入本村的数据，导出数据包交乡镇导入；乡镇下发的数据包（积分规则、评定方案、评定结果）在这里导入")
    else:
        print(f"已新建{'县级' if mode == 'county' else '乡镇'}数据库：{path}（{name}，{args.code}）")
    return EXIT_OK


def _as_of_date(text: str) -> dt.date:
    """``--as-of``: a day written YYYY-MM-DD (a usage error otherwise)."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期应写成 YYYY-MM-DD，例如 2026-12-06，而不是“{text}”") from None


def _printed_progress() -> Callable[[int, int, str], None]:
    """Progress of a long command printed as it goes, at most once a second (and at the end)."""
    last = [0.0]

    def progress(done: int, total: int, text: str) -> None:
        now = time.perf_counter()
        if now - last[0] > 1.0 or done == total:
            last[0] = now
            print(f"  {text} {done}/{total}", flush=True)

    return progress


def cmd_demo(args: argparse.Namespace) -> int:
    from townapp.create import remove_database_files
    from townapp.db import open_database
    from townapp.demo import build_demo

    path = db_target(args.db)
    if isinstance(path, Path) and path.exists():
        raise DomainError(f"文件已存在：{path}。演示数据只生成到新文件中。")
    started = time.perf_counter()
    progress = _printed_progress()
    db = open_database(path, create=True)
    if db.server and db.meta("mode"):
        db.dispose()
        raise DomainError(f"服务器数据库 {db.location} 已有数据。演示数据只生成到空的数据库中。")
    try:
        summary = build_demo(db, scale=args.scale, seed=args.seed, progress=progress, as_of=args.as_of)
    except BaseException:
        db.dispose()
        if isinstance(path, Path):
            remove_database_files(path)
        raise
    path = db.location
    db.dispose()
    elapsed = time.perf_counter() - started
    print(f"演示数据库已生成：{path}")
    print(f"  {summary.describe()}")
    print(f"  用时 {elapsed:.1f} 秒")
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    """Read-only: never migrates, never writes (not even the journal mode); a damaged file is reported (1)."""
    from townapp.checks import check_database_file

    report, facts = check_database_file(db_target(args.db))
    if facts.get("schema_revision") is None and not report.ok and not args.json:
        # the file itself is unusable (missing, empty, damaged, foreign): say so as an error
        print("；".join(report.errors), file=sys.stderr)
        print(f"检查未通过：{args.db} 不是可用的 townapp 数据库", file=sys.stderr)
        return EXIT_REJECTED
    if args.json:
        print(json.dumps({"ok": report.ok, **facts, "errors": report.errors, "warnings": report.warnings},
                         ensure_ascii=False, indent=2, default=str))
    else:
        print(f"数据库：{args.db}")
        print(f"完整性：{facts.get('integrity')}；外键错误：{facts.get('foreign_key_violations')}；"
              f"结构版本：{facts.get('schema_revision')}")
        for message in report.errors:
            print(f"错误：{message}")
        for message in report.warnings:
            print(f"提示：{message}")
        print("检查通过" if report.ok else f"检查未通过：{len(report.errors)} 个错误")
    return EXIT_OK if report.ok else EXIT_REJECTED


def cmd_yearend(args: argparse.Namespace) -> int:
    """The year-close checklist (exit 0 when nothing blocks, 1 otherwise), or ``--close``: the close itself
    (1 with the open items when it is refused)."""
    from townapp.core.actor import CLI_ACTOR
    from townapp.db import open_database
    from townapp.yearend.service import YearEndService

    db = open_database(args.db)
    try:
        service = YearEndService(db, CLI_ACTOR)
        done = service.closed(args.year)
        if done is not None:
            print(f"{args.year}年度已于{done.closed_on:%Y-%m-%d}由{done.closed_by}结转：")
            print("\n".join(f"  {line}" for line in done.summary))
            return EXIT_OK
        if args.close:
            closed = service.close(args.year, args.on, progress=_printed_progress())
            print(f"{args.year}年度已结转：")
            print("\n".join(f"  {line}" for line in closed.summary))
            return EXIT_OK
        items = service.checklist(args.year, args.on)
        for item in items:
            state = "已完成" if item.clear else ("未完成" if item.blocking else "提醒")
            where = f"（在“{item.where}”页处理）" if item.where and not item.clear else ""
            print(f"{state}  {item.title}：{item.detail or item.count}{where}")
        blocking = [item for item in items if item.blocking and not item.clear]
        print(f"{args.year}年度还有 {len(blocking)} 项未完成，不能结转" if blocking
              else f"{args.year}年度清单已办完，可以结转（townapp yearend --close）")
        return EXIT_REJECTED if blocking else EXIT_OK
    finally:
        db.dispose()


def cmd_backup(args: argparse.Namespace) -> int:
    from townapp.db.backup import backup_and_rotate, backup_database

    path = db_target(args.db)
    if not isinstance(path, Path):  # a server: pg_dump, into the chosen folder or the data folder's backups
        from townapp.db.server import pg_dump_backup, server_url

        target = pg_dump_backup(server_url(path), Path(args.out) if args.out else config.backup_dir(), "manual")
        print(f"已备份到：{target}（pg_dump 格式，用 pg_restore 恢复）")
        return EXIT_OK
    if not path.is_file():
        raise DomainError(f"数据库文件不存在：{path}")
    # a chosen folder (a USB stick) gets one verified copy; the data folder's backups are rotated
    target = backup_database(path, Path(args.out)) if args.out else backup_and_rotate(path, "manual")
    print(f"已备份到：{target}")
    return EXIT_OK


@contextmanager
def _single_instance(path: Path) -> Iterator[None]:
    """The app's one-window-per-database lock (the GUI's lock file), held for a command's whole run."""
    from townapp.ui.lock import DatabaseLock  # QtCore only: no display needed

    lock = DatabaseLock(path)
    if not lock.acquire():
        raise DomainError(lock.message.replace("请切换到已打开的窗口。", "请先关闭那个窗口，再运行这个命令。"))
    try:
        yield
    finally:
        lock.release()


def cmd_restore(args: argparse.Namespace) -> int:
    """Acts as the recorded 命令行 user: whoever holds the shell can read the file anyway."""
    from townapp.db import open_database
    from townapp.db.backup import restore_database

    if not isinstance(db_target(args.db), Path):
        raise DomainError("服务器数据库的恢复由服务器管理员用 pg_restore 完成（townapp backup 做出的 .dump 文件："
                          "pg_restore --clean --if-exists -d 数据库名 备份文件），townapp 不替管理员覆盖服务器上的数据")
    path, source = Path(args.db), Path(args.source)
    with _single_instance(path):  # no window may have it open; its writes would be lost under the restore
        result = restore_database(path, source)
        open_database(path).dispose()  # an older backup is migrated (after its own backup) right away
    print(f"已恢复：{path}（来自 {source}）")
    if result.previous_state is not None:
        print(f"恢复前的数据已备份到：{result.previous_state}")
    return EXIT_OK


def cmd_selftest(args: argparse.Namespace) -> int:
    from townapp.selftest import selftest_command

    return selftest_command(args)


def cmd_archive(args: argparse.Namespace) -> int:
    from townapp.archives.printable import write_archive
    from townapp.archives.service import ArchiveService
    from townapp.core.actor import CLI_ACTOR
    from townapp.db import open_database

    db = open_database(args.db)
    try:
        service = ArchiveService(db, CLI_ACTOR)
        village_id = service.village_id_by_code(args.village)
        out = write_archive(service, village_id, args.out)
        name = service.village_name(village_id)[1]
    finally:
        db.dispose()
    print(f"已生成 {name} 的一村一档：{out}")
    return EXIT_OK


def cmd_export_quarterly(args: argparse.Namespace) -> int:
    from townapp.core.actor import CLI_ACTOR
    from townapp.db import open_database
    from townapp.figures import figure_registry, unit_source
    from townapp.outputs.figures import Period
    from townapp.outputs.quarterly import ReturnService

    period = Period(args.year, args.quarter)
    db = open_database(args.db)
    try:
        service = ReturnService(db, figure_registry(db), unit_source(args.township), CLI_ACTOR)
        result = service.export(service.build(period), args.out, args.pdf)
    except DomainError as exc:
        print(exc.message)
        return EXIT_REJECTED
    finally:
        db.dispose()
    print(f"已导出{period.text}季度报表：{result.xlsx}" + (f"，PDF：{result.pdf}" if result.pdf else ""))
    if result.missing_figures:
        print(f"提示：以下数字尚无模块提供，报表中按0填写：{'、'.join(result.missing_figures)}")
    return EXIT_OK


def _package_to(args: argparse.Namespace, what: str, write: Callable[..., Any]) -> int:
    """Open the database, write one package with ``write(db)``, say where it is and that the stick may go."""
    from townapp.db import open_database

    db = open_database(args.db)
    try:
        result = write(db)
    except DomainError as exc:
        print(exc.message)
        return EXIT_REJECTED
    finally:
        db.dispose()
    from townapp.exchange.commands import print_written
    print_written(result, what)
    return EXIT_OK


def cmd_export_return(args: argparse.Namespace) -> int:
    """``townapp export return --db COUNTY --township CODE --out FILE.xlsx``: the county's decisions for it."""
    from townapp.core.actor import CLI_ACTOR
    from townapp.county.service import CountyService

    return _package_to(args, "回传数据包", lambda db: CountyService(db, CLI_ACTOR).export_return(
        args.township, args.out, password=args.password))


def cmd_export_village(args: argparse.Namespace) -> int:
    """``townapp export village --db TOWNSHIP --village CODE --out FILE.xlsx``: what the township decided."""
    from townapp.core.actor import CLI_ACTOR
    from townapp.county.downward import export_for_village

    return _package_to(args, "下发村级的数据包", lambda db: export_for_village(
        db, CLI_ACTOR, args.village, args.out, password=args.password))


def cmd_certificates(args: argparse.Namespace) -> int:
    """The year's newest finalised source of the kind (a round, or all 最美网格员 of the year)."""
    from townapp.config import Settings
    from townapp.core.actor import CLI_ACTOR
    from townapp.db import open_database
    from townapp.figures import certificate_batch, certificate_choices
    from townapp.outputs.certificates import CertificateService, printer_offset

    db = open_database(args.db)
    try:
        choices = certificate_choices(db, args.kind, args.year, actor=CLI_ACTOR)
        if not choices:
            if args.kind == "excellent-member":
                from townapp.points.service import PointsService

                if PointsService(db, CLI_ACTOR).year_closed(args.year) is None:
                    raise DomainError(f"{args.year}年度尚未结转：党员积分的年度等次在“年度结转”后才确定，"
                                      "优秀党员证书按确定的等次打印")
            raise DomainError(f"{args.year}年没有可以打印这种证书的已定级评定或评选结果")
        batch = certificate_batch(db, args.kind, choices[0].key, actor=CLI_ACTOR)
        offset = printer_offset(Settings(), args.printer) if args.overlay else (0.0, 0.0)
        result = CertificateService(db, CLI_ACTOR).write_batch(batch, args.out, overlay=args.overlay,
                                                               offset_mm=offset, channel=f"PDF文件 {args.out}")
    finally:
        db.dispose()
    print(f"已生成 {len(result.certificates)} 张证书（{batch.source_label}）：{result.path}")
    print(f"  新编号 {result.new_numbers} 张，补打 {result.reprints} 张；"
          f"编号 {result.certificates[0].number} 至 {result.certificates[-1].number}")
    return EXIT_OK


def cmd_bench(args: argparse.Namespace) -> int:
    from townapp.bench import run_bench

    result = run_bench(args.scale, Path(args.json_out) if args.json_out else None)
    return EXIT_OK if all(f["ok"] for f in result["figures"]) else EXIT_REJECTED


def cmd_gui(args: argparse.Namespace) -> int:
    from townapp.core.syslibs import refuse_gui_start

    refused = refuse_gui_start()  # before PySide6.QtWidgets is imported: a missing xcb library would make Qt abort
    if refused is not None:
        return refused
    from townapp.ui.app import run_gui

    return run_gui(db_path=db_target(args.db) if args.db else None, demo=args.demo)


def main(argv: Sequence[str] | None = None) -> int:
    from townapp.core.logs import configure_logging

    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(config.log_path())
    handler: Callable[[argparse.Namespace], int] = getattr(args, "handler", cmd_gui)
    with _closed_pipe_tolerated():
        return _run(handler, args)


class _PipeGuard:
    """stdout that a reader closing the pipe (``townapp import … | head -1``) does not turn into a failure:
    the command has done its work (an import may be written), so its exit code must stay what it was."""

    def __init__(self, stream: Any) -> None:
        self.stream, self.broken = stream, False

    def write(self, text: str) -> int:
        if not self.broken:
            try:
                return self.stream.write(text)
            except BrokenPipeError:
                self.broken = True
        return len(text)

    def flush(self) -> None:
        if not self.broken:
            try:
                self.stream.flush()
            except BrokenPipeError:
                self.broken = True

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


@contextmanager
def _closed_pipe_tolerated() -> Iterator[None]:
    original = sys.stdout
    guard = _PipeGuard(original)
    sys.stdout = guard  # type: ignore[assignment]
    try:
        yield
    finally:
        sys.stdout = original
        if guard.broken:  # Python's own flush at exit would fail on the closed pipe again
            try:
                os.dup2(os.open(os.devnull, os.O_WRONLY), original.fileno())
            except (OSError, ValueError, AttributeError):
                pass


def _run(handler: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    try:
        return handler(args)
    except DomainError as exc:
        print(exc.message, file=sys.stderr)
        return EXIT_REJECTED
    except KeyboardInterrupt:
        print("已中断", file=sys.stderr)
        return EXIT_UNEXPECTED
    except Exception as exc:
        from townapp.core.atomic import describe_write_error

        refused = describe_write_error(exc)  # a full, read-only or forbidden disk is the user's to fix
        if refused is not None:
            log.warning("写入失败：%s", exc)
            print(refused, file=sys.stderr)
            return EXIT_REJECTED
        log.exception("命令执行失败：%s", " ".join(sys.argv))
        from townapp.checks import damage_behind

        damage = damage_behind(exc, getattr(args, "db", None))
        if damage is not None:  # the database is damaged: the user's to restore, not a fault of the program
            print(damage, file=sys.stderr)
            return EXIT_REJECTED
        print(f"发生意外错误，详细信息已写入日志文件：{config.log_path()}", file=sys.stderr)
        return EXIT_UNEXPECTED

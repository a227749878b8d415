"""CLI glue for ``townapp import`` and ``townapp export template|package`` (DESIGN §8).

cli.py parses the arguments and returns what these functions return as the
exit code: 0 accepted/done, 1 data rejected or a domain error, 2 usage error.
Anything unexpected propagates so cli.py can answer 3 and name the log file.
The sheets come from the caller (cli.py passes ``townapp.sheets.all_sheet_specs``):
the exchange never imports a module, nor the list of them.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from townapp.core.actor import CLI_ACTOR
from townapp.core.errors import DomainError
from townapp.db import Database, open_database
from townapp.exchange import protect
from townapp.exchange.annotate import write_annotated
from townapp.exchange.layouts import MappingFileError, check_mappings, read_mapping_file
from townapp.exchange.package import PackageResult, package_file_name, write_package
from townapp.exchange.pipeline import run_import
from townapp.exchange.spec import SheetSpec
from townapp.exchange.template import write_template

EXIT_OK, EXIT_REJECTED, EXIT_USAGE = 0, 1, 2

Specs = Callable[[], Sequence[SheetSpec]]  # every sheet, in import order; asked for only when needed
PackageSpecs = Callable[[Database], Sequence[SheetSpec]]  # a sync package's sheets (reported ones need the database)


def import_command(args: argparse.Namespace, *, sheet_specs: Specs,
                   elsewhere: Callable[[], Sequence[tuple[SheetSpec, str]]] = tuple,
                   package_specs: PackageSpecs | None = None) -> int:
    """``townapp import --db PATH FILE [--dry-run] [--report OUT.(xlsx|json)] [--mapping MAP.json]``."""
    report_path = Path(args.report) if getattr(args, "report", None) else None
    if report_path is not None and report_path.suffix.lower() not in (".json", ".xlsx"):
        print(f"报告文件应以 .json 或 .xlsx 结尾：{report_path}")
        return EXIT_USAGE
    source = Path(args.file)
    if not source.exists():  # a folder goes on: run_import rejects it with a report (not_spreadsheet)
        print(f"找不到要导入的文件：{source}")
        return EXIT_USAGE
    mappings, save_as = {}, None
    specs = list(sheet_specs())
    if getattr(args, "mapping", None):
        try:
            mappings, save_as = read_mapping_file(args.mapping)
            check_mappings(mappings, specs)
        except MappingFileError as exc:
            print(exc.message)
            return EXIT_USAGE
    try:
        db = open_database(args.db)
    except DomainError as exc:
        print(exc.message)
        return EXIT_REJECTED
    password = getattr(args, "password", None)
    if password is None and protect.is_encrypted(source) and _interactive():
        password = getpass.getpass(f"{source.name} 已加密，请输入打开密码：")
    if package_specs is not None:
        specs = list(package_specs(db))  # a package's reported sheets too (a workbook never matches them)
    try:
        report = run_import(db, source, specs, dry_run=bool(args.dry_run), actor=CLI_ACTOR,
                            elsewhere=elsewhere(), mappings=mappings, save_as=save_as, password=password)
    except DomainError as exc:
        print(exc.message)
        return EXIT_REJECTED
    finally:
        db.dispose()
    print(report.summary_text())
    if report_path is not None:
        if report_path.suffix.lower() == ".json":
            report.write_json(report_path)
        else:
            try:
                write_annotated(source, report, report_path)
            except DomainError as exc:  # the file cannot be read for a copy (AnnotateFailed): say why
                print(exc.message)
                return EXIT_REJECTED
        print(f"报告已保存：{report_path}")
    return EXIT_OK if report.accepted else EXIT_REJECTED


def export_template_command(args: argparse.Namespace, *, sheet_specs: Specs) -> int:
    """``townapp export template --out FILE.xlsx``."""
    out = Path(args.out)
    if out.suffix.lower() != ".xlsx":
        print(f"模板文件应以 .xlsx 结尾：{out}")
        return EXIT_USAGE
    specs = list(sheet_specs())
    write_template(specs, out)
    print(f"已生成导入模板：{out}（{len(specs)} 个工作表：{'、'.join(s.title for s in specs)}）")
    return EXIT_OK


def export_package_command(args: argparse.Namespace, *, sheet_specs: Specs,
                           package_specs: PackageSpecs | None = None) -> int:
    """``townapp export package --db PATH (--out FILE.xlsx | --out-dir FOLDER) [--password PW | --no-password]``.

    In a terminal without ``--password`` it asks for one (twice); run by a script without either option
    it writes the package unencrypted and says so (the contract of the command without options)."""
    folder = getattr(args, "out_dir", None)
    out = Path(folder) if folder else Path(args.out)
    if folder is None and out.suffix.lower() != ".xlsx":
        print(f"数据包文件应以 .xlsx 结尾：{out}")
        return EXIT_USAGE
    password = getattr(args, "password", None)
    if password is None and not getattr(args, "no_password", False) and _interactive():
        password = _ask_new_password()
        if password is None:
            return EXIT_USAGE
    if password is not None and (problems := protect.password_problems(password)):
        print("；".join(p.message for p in problems))
        return EXIT_USAGE
    try:
        db = open_database(args.db)
    except DomainError as exc:
        print(exc.message)
        return EXIT_REJECTED
    try:
        if folder is not None:
            out = out / package_file_name(db.meta("root_name") or "")
        specs = package_specs(db) if package_specs is not None else sheet_specs()
        result = write_package(db, list(specs), out, actor=CLI_ACTOR, password=password)
    except DomainError as exc:
        print(exc.message)
        return EXIT_REJECTED
    finally:
        db.dispose()
    print_written(result, "数据包")
    if password is None:
        print("提示：数据包未加密。建议用 --password 设置打开密码（" + protect.LOST_PASSWORD + "）")
    return EXIT_OK


def print_written(result: PackageResult, what: str) -> None:
    """A written package on the terminal: where, how many rows per sheet, and that the stick may go."""
    counts = "，".join(f"{name} {rows} 行" for name, rows in result.rows.items())
    print(f"已导出{what}：{result.path}（{counts}）")
    print(result.done_message())


def _interactive() -> bool:
    """Whether a person is at the terminal to be asked (not a script or a test)."""
    return sys.stdin is not None and sys.stdin.isatty()


def _ask_new_password() -> str | None:
    """A new package password typed twice (not shown); None when the two differ or it is too short."""
    print("数据包含完整身份证号，将用密码加密（Excel、WPS 输入密码即可打开）。" + protect.LOST_PASSWORD)
    password = getpass.getpass("请设置打开密码（至少6位）：")
    again = getpass.getpass("请再输入一次：")
    problems = protect.password_problems(password, again)
    if problems:
        print("；".join(p.message for p in problems))
        return None
    return password

"""``townapp selftest``: does this copy of the program work on this machine?

A fresh install on a township laptop fails in ways tests on the developer's
machine never see: a font left out of the bundle, a Qt plugin that cannot load,
migrations missing from the frozen folder, Chinese printed as boxes. Each check
here exercises one of those paths for real (write, then read back) and says in
Chinese what failed. Every input is a field of :class:`SelftestInputs` so the
tests can break one input at a time and see its check fail.
"""

from __future__ import annotations

import argparse
import ast
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from townapp import config, version
from townapp.core import syslibs
from townapp.core.resources import read_json

FONT_PARTS = ("fonts", "wqy-microhei.ttc")
# Written by build_spec.py into the frozen bundle: version, build facts and the
# characters of every string literal (the .py sources are not in a frozen build).
BUILD_INFO_NAME = "townapp_build.json"
SAMPLE_TEXT = "乡镇党建与基层治理台账 自检 ★ 2026年"
QT_PROBE_TIMEOUT_S = 90


@dataclass(frozen=True)
class CheckResult:
    name: str
    title: str
    ok: bool
    message: str
    seconds: float = 0.0


@dataclass(frozen=True)
class SelftestInputs:
    """Everything the checks read; defaults are what the running program itself uses."""

    work_dir: Path
    font_path: Path
    resources_dir: Path
    migrations_dir: Path
    source_dir: Path | None  # townapp's .py files (absent in a frozen build)
    build_info: Path | None  # townapp_build.json (frozen build only)
    qt_platform: str | None = None  # None: QT_QPA_PLATFORM, else Qt's default (offscreen without a display)
    qt_translations_dir: Path | None = None  # None: Qt's own translations folder (QLibraryInfo)
    qt_probe_command: tuple[str, ...] = ()
    pyside_dir: Path | None = None  # None: the PySide6 this program runs with (its libraries are ldd-checked)

    @classmethod
    def defaults(cls, work_dir: Path) -> SelftestInputs:
        from townapp.db.migrate import MIGRATIONS_DIR

        package = Path(__file__).resolve().parent
        frozen = getattr(sys, "_MEIPASS", None)
        return cls(
            work_dir=work_dir,
            font_path=config.resource(*FONT_PARTS),
            resources_dir=config.resources_dir(),
            migrations_dir=MIGRATIONS_DIR,
            source_dir=package if (package / "cli.py").is_file() else None,
            build_info=Path(frozen) / BUILD_INFO_NAME if frozen else None,
            qt_probe_command=default_qt_probe_command(),
        )


def default_qt_probe_command() -> tuple[str, ...]:
    """How to start this same program again as a Qt probe (frozen or from source)."""
    if getattr(sys, "frozen", False):
        # Windows: townapp.exe has no console (its output goes nowhere); townapp-cli.exe sits beside it.
        console = Path(sys.executable).with_name("townapp-cli.exe")
        executable = str(console) if sys.platform == "win32" and console.is_file() else sys.executable
        return (executable, "selftest", "--qt-probe")
    return (sys.executable, "-m", "townapp", "selftest", "--qt-probe")


# ----- the characters the app prints ------------------------------------------
def _docstring_ids(tree: ast.AST) -> set[int]:
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
                    and isinstance(first.value.value, str)):
                found.add(id(first.value))
    return found


def _printable_non_ascii(text: str) -> set[str]:
    return {ch for ch in text if ord(ch) > 0x7E and ch.isprintable()}


def source_characters(package_dir: Path) -> set[str]:
    """Non-ASCII characters of every string literal in townapp's sources (docstrings excepted)."""
    chars: set[str] = set()
    for path in sorted(package_dir.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        skip = _docstring_ids(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
                chars |= _printable_non_ascii(node.value)
    return chars


# spellings the program only reads from what people type (✗ in a score cell), never shows
INPUT_ONLY_KEYS = frozenset({"cell_answers"})


def resource_characters(resources_dir: Path) -> set[str]:
    """Non-ASCII characters of every key and value in resources/**/*.json (but input-only spellings)."""
    chars: set[str] = set()

    def walk(value: object) -> None:
        if isinstance(value, str):
            chars.update(_printable_non_ascii(value))
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(key)
                if key not in INPUT_ONLY_KEYS:
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for path in sorted(resources_dir.rglob("*.json")):
        walk(read_json(path))  # the one loader: a broken file is named, in Chinese
    return chars


def app_characters(inputs: SelftestInputs) -> tuple[set[str], list[str]]:
    """The characters to cover and where they came from (sources or the build's list, plus resources)."""
    chars: set[str] = set()
    origins: list[str] = []
    if inputs.source_dir is not None and inputs.source_dir.is_dir():
        chars |= source_characters(inputs.source_dir)
        origins.append("程序源代码")
    elif inputs.build_info is not None:
        info = json.loads(inputs.build_info.read_text(encoding="utf-8"))
        chars |= set(info["characters"])
        origins.append("构建时收集的程序文字")
    else:
        raise FileNotFoundError("找不到程序文字清单（既没有源代码，也没有构建信息文件）")
    if not inputs.resources_dir.is_dir():
        raise FileNotFoundError(f"资源文件夹不存在：{inputs.resources_dir}")
    chars |= resource_characters(inputs.resources_dir)
    origins.append("资源文件")
    chars |= _printable_non_ascii(SAMPLE_TEXT)
    return chars, origins


# ----- the checks ---------------------------------------------------------------
def _require_file(path: Path, what: str) -> None:
    if not path.is_file():
        raise FileNotFoundError(f"{what}不存在：{path}")


def check_font(inputs: SelftestInputs) -> str:
    from reportlab.pdfbase.ttfonts import TTFont

    _require_file(inputs.font_path, "内置字体")
    font = TTFont("TownappSelftestCoverage", str(inputs.font_path), subfontIndex=0)
    cmap = font.face.charToGlyph
    chars, origins = app_characters(inputs)
    missing = sorted(ch for ch in chars if ord(ch) not in cmap)
    if missing:
        shown = "".join(missing[:40])
        raise AssertionError(f"字体缺少 {len(missing)} 个程序会显示的字符：{shown}"
                             f"{'……' if len(missing) > 40 else ''}")
    return f"{inputs.font_path.name} 覆盖程序会显示的全部 {len(chars)} 个非 ASCII 字符（来自{'、'.join(origins)}）"


def check_qt(inputs: SelftestInputs) -> str:
    """Qt runs in a child process: a platform plugin that cannot load aborts the process.

    First the system libraries Qt's window links to (ldd, townapp.core.syslibs): when the probe would use
    the X11 plugin and one is missing, the check fails naming it and its package without starting Qt;
    on a machine without a display (offscreen) the probe still runs and the message names what a desktop
    start would lack.
    """
    if not inputs.qt_probe_command:
        raise RuntimeError("没有可用的 Qt 检查命令")
    request = {
        "platform": inputs.qt_platform,
        "translations_dir": str(inputs.qt_translations_dir) if inputs.qt_translations_dir else None,
        "font_path": str(inputs.font_path),
    }
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    if inputs.qt_platform is None and not env.get("QT_QPA_PLATFORM") and _no_display():
        request["platform"] = "offscreen"
    missing = syslibs.missing_libraries(inputs.pyside_dir)
    platform = request["platform"] or syslibs.window_platform(env)
    if missing and platform == "xcb":
        raise RuntimeError(f"图形界面无法启动：{syslibs.describe_missing_in_one_line(missing)}")
    try:
        result = subprocess.run([*inputs.qt_probe_command, json.dumps(request, ensure_ascii=False)],
                                capture_output=True, text=True, encoding="utf-8", errors="replace", env=env,
                                timeout=QT_PROBE_TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"Qt 检查超过 {QT_PROBE_TIMEOUT_S} 秒没有结束") from exc
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    report = json.loads(lines[-1]) if lines else None
    if report is None:
        tail = " ".join(result.stderr.strip().splitlines()[-3:])
        raise RuntimeError(f"Qt 无法启动（退出码 {result.returncode}）：{tail or '没有输出'}")
    if not report.get("ok"):
        raise RuntimeError(report.get("message") or "Qt 检查失败")
    if missing:
        return f"{report['message']}。但在图形桌面上还打不开窗口：{syslibs.describe_missing_in_one_line(missing)}"
    return report["message"]


def _no_display() -> bool:
    return sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def check_migrations(inputs: SelftestInputs) -> str:
    from alembic import command
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from sqlalchemy import inspect

    from townapp.db.engine import make_engine
    from townapp.db.migrate import current_revision
    from townapp.schema import metadata

    if not (inputs.migrations_dir / "env.py").is_file():
        raise FileNotFoundError(f"数据库升级脚本不存在：{inputs.migrations_dir}")
    path = inputs.work_dir / "selftest.db"
    engine = make_engine(path)
    try:
        alembic_config = Config()
        alembic_config.set_main_option("script_location", str(inputs.migrations_dir))
        with engine.begin() as conn:
            alembic_config.attributes["connection"] = conn
            command.upgrade(alembic_config, "head")
        head = ScriptDirectory.from_config(alembic_config).get_current_head()
        current = current_revision(engine)
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    if current != head:
        raise AssertionError(f"升级后的结构版本是 {current}，应为 {head}")
    missing = sorted(set(metadata.tables) - tables)
    if missing:
        raise AssertionError(f"升级后缺少数据表：{'、'.join(missing)}")
    return f"临时数据库已升级到 {head}（{len(tables)} 张表）"


def check_xlsx(inputs: SelftestInputs) -> str:
    from openpyxl import Workbook
    from python_calamine import CalamineWorkbook

    rows = [["姓名", "身份证号", "补贴（分）"], ["张三", "140821199001010011", 12345], ["李四", "14082120000229002X", 0]]
    path = inputs.work_dir / "自检.xlsx"
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "自检"
    for row in rows:
        sheet.append(row)
    for (cell,) in sheet.iter_rows(min_row=2, min_col=2, max_col=2):
        cell.number_format = "@"
    workbook.save(path)
    back = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("自检").to_python()
    # calamine returns numbers as floats (DESIGN §5.2); an ID that came back as a number would differ here.
    normalised = [[row[0], row[1], int(row[2]) if isinstance(row[2], float) else row[2]] for row in back]
    if normalised != rows:
        raise AssertionError(f"读回的内容与写入的不同：{back!r}")
    from townapp.exchange.protect import encrypt_file

    encrypt_file(path, inputs.work_dir / "自检-加密.xlsx", "Selftest#2026")  # read back with the password inside
    return (f"openpyxl 写入、python-calamine 读回 {len(rows)} 行一致（身份证号保持为文本）；"
            "用密码加密（数据包）并读回一致")


def check_pdf(inputs: SelftestInputs) -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    _require_file(inputs.font_path, "内置字体")
    font_name = f"TownappSelftest{abs(hash(str(inputs.font_path))) % 10**8}"
    pdfmetrics.registerFont(TTFont(font_name, str(inputs.font_path), subfontIndex=0))
    path = inputs.work_dir / "自检.pdf"
    pdf = canvas.Canvas(str(path), initialFontName=font_name)  # no Helvetica declared: every font embedded
    pdf.setFont(font_name, 16)
    pdf.drawString(72, 720, SAMPLE_TEXT)
    pdf.save()
    data = path.read_bytes()
    if not (data.startswith(b"%PDF-") and b"%%EOF" in data[-1024:]):
        raise AssertionError("生成的 PDF 文件不完整")
    if b"/FontFile2" not in data:
        raise AssertionError("PDF 中没有嵌入字体，没有中文字体的电脑上会显示为方框")
    try:
        from pypdf import PdfReader
    except ImportError:
        return f"PDF 已生成并嵌入字体（{len(data) // 1024} KB）；未安装 pypdf，未提取文字核对"
    text = PdfReader(str(path)).pages[0].extract_text().strip()
    if text != SAMPLE_TEXT:
        raise AssertionError(f"从 PDF 提取的文字与写入的不同：{text!r}")
    return f"PDF 已生成、嵌入字体，提取出的文字与写入的一致（{len(data) // 1024} KB）"


def check_chart(inputs: SelftestInputs) -> str:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties

    _require_file(inputs.font_path, "内置字体")
    font = FontProperties(fname=str(inputs.font_path), size=11)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        figure = Figure(figsize=(4, 3), dpi=80)
        axes = figure.add_subplot()
        axes.bar(["临晋镇", "东张村", "西关村"], [12, 7, 9])
        axes.set_title(SAMPLE_TEXT, fontproperties=font)
        axes.set_ylabel("党员人数", fontproperties=font)
        for label in axes.get_xticklabels():
            label.set_fontproperties(font)
        buffer = io.BytesIO()
        FigureCanvasAgg(figure).print_png(buffer)
    glyph_warnings = [str(w.message) for w in caught if "missing from font" in str(w.message)]
    if glyph_warnings:
        raise AssertionError(f"图表中有 {len(glyph_warnings)} 个字缺字形（会显示为方框），如：{glyph_warnings[0]}")
    png = buffer.getvalue()
    if not png.startswith(b"\x89PNG"):
        raise AssertionError("图表没有生成 PNG")
    return f"matplotlib 用 {font.get_name()} 画出中文图表（PNG {len(png) // 1024} KB），没有缺字"


def check_id_regions(inputs: SelftestInputs) -> str:
    """The GB/T 2260 history the ID check reads (python-stdnum's cn/loc.dat) is installed: without it
    every ID number would get the "region code not found" warning."""
    from townapp.core.idcard import region_history_file

    found = region_history_file()
    if found is None:
        raise AssertionError("找不到身份证行政区划历史表（python-stdnum 的 cn/loc.dat），程序安装不完整")
    codes = len(found.read_text(encoding="utf-8").splitlines())
    return f"行政区划历史表 {codes} 行"


@dataclass(frozen=True)
class Check:
    name: str
    title: str
    run: Callable[[SelftestInputs], str]


CHECKS: tuple[Check, ...] = (
    Check("font", "内置字体", check_font),
    Check("qt", "Qt 界面组件与中文翻译", check_qt),
    Check("migrations", "数据库升级", check_migrations),
    Check("xlsx", "Excel 读写", check_xlsx),
    Check("pdf", "PDF 生成", check_pdf),
    Check("chart", "中文图表", check_chart),
    Check("id_regions", "身份证地区码表", check_id_regions),
)


def run_check(check: Check, inputs: SelftestInputs) -> CheckResult:
    started = time.perf_counter()
    try:
        message = check.run(inputs)
        ok = True
    except Exception as exc:  # a check reports any failure as its result, never crashes the others
        ok, message = False, str(exc) or type(exc).__name__
        if not any(0x4E00 <= ord(ch) <= 0x9FFF for ch in message):
            message = f"{type(exc).__name__}：{message}"
    return CheckResult(check.name, check.title, ok, message, round(time.perf_counter() - started, 2))


def run_selftest(inputs: SelftestInputs, only: Iterable[str] | None = None) -> list[CheckResult]:
    wanted = set(only) if only is not None else None
    return [run_check(check, inputs) for check in CHECKS if wanted is None or check.name in wanted]


@dataclass
class SelftestReport:
    ok: bool
    version: str
    frozen: bool
    executable: str
    checks: list[CheckResult] = field(default_factory=list)
    # System libraries Qt's window cannot find here ({"soname", "package"}), and the command that installs them.
    missing_system_libraries: list[dict[str, str | None]] = field(default_factory=list)
    install_command: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2)


def selftest_report(inputs_override: Callable[[SelftestInputs], SelftestInputs] | None = None,
                    only: Sequence[str] | None = None) -> SelftestReport:
    with tempfile.TemporaryDirectory(prefix="townapp-selftest-") as tmp:
        inputs = SelftestInputs.defaults(Path(tmp))
        if inputs_override is not None:
            inputs = inputs_override(inputs)
        results = run_selftest(inputs, only)
        missing = syslibs.missing_libraries(inputs.pyside_dir)
    packages = [item.package for item in missing if item.package]
    return SelftestReport(ok=all(r.ok for r in results), version=version(),
                          frozen=bool(getattr(sys, "frozen", False)), executable=sys.executable, checks=results,
                          missing_system_libraries=[item.to_dict() for item in missing],
                          install_command=syslibs.apt_command(packages) if packages else None)


# ----- command line -------------------------------------------------------------
def selftest_command(args: argparse.Namespace) -> int:
    """``townapp selftest [--json]``: exit 0 when every check passed, 1 naming those that failed."""
    if args.qt_probe is not None:
        return qt_probe_command(args.qt_probe)
    report = selftest_report()
    if args.json:
        print(report.to_json())
    else:
        kind = "安装版" if report.frozen else "源代码"
        print(f"townapp {report.version} 自检（{kind}：{report.executable}）")
        for result in report.checks:
            print(f"  {'通过' if result.ok else '失败'}  {result.title}：{result.message}（{result.seconds:.1f} 秒）")
        for item in report.missing_system_libraries:
            print(f"  {syslibs.MissingLibrary(item['soname'] or '', item['package']).describe()}")
        if report.install_command:
            print(f"  安装缺少的系统库：{report.install_command}")
    failed = [r.title for r in report.checks if not r.ok]
    if failed:
        print(f"自检未通过：{'、'.join(failed)}", file=sys.stderr)
        return 1
    if not args.json:
        print("自检通过")
    return 0


def qt_probe_command(request_json: str) -> int:
    """The child side of :func:`check_qt`: prints one JSON line."""
    from townapp.ui.qt_probe import probe

    request = json.loads(request_json or "{}")
    report = probe(platform=request.get("platform"),
                   translations_dir=Path(request["translations_dir"]) if request.get("translations_dir") else None,
                   font_path=Path(request["font_path"]) if request.get("font_path") else None)
    print(json.dumps(report, ensure_ascii=False), flush=True)
    return 0 if report["ok"] else 1


def with_inputs(**changes: object) -> Callable[[SelftestInputs], SelftestInputs]:
    """For tests and diagnosis: the default inputs with some replaced."""
    return lambda inputs: replace(inputs, **changes)

"""Start-up on a Linux desktop that lacks a system library Qt's window needs.

Story: a township laptop with 统信UOS has PySide6 installed by pip but not ``libxcb-icccm4``. Qt
would abort (SIGABRT) with an English hint about another library; instead the start says in Chinese
which library is missing, which package holds it and the one apt command, and exits with code 4.
The README's apt line and the .deb's Depends come from the same table.

Nothing is uninstalled here: ldd's answer is injected, or ldd really runs on a copy of Qt's X11 plugin
whose link to ``libxcb-cursor.so.0`` was renamed to a library no system has.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from townapp.core import syslibs
from townapp.core.syslibs import (
    EXIT_MISSING_SYSTEM_LIBRARIES,
    GUI_PACKAGES,
    LIBRARY_PACKAGES,
    MissingLibrary,
    gui_start_problem,
    missing_libraries,
    refuse_gui_start,
)

ROOT = Path(__file__).resolve().parent.parent
LINUX_ONLY = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ldd 与 X11 插件只在 Linux 上")
ON_DESKTOP = {"DISPLAY": ":0"}
# What ldd printed on the measured laptop (issue 21): two xcb libraries absent, xcb-cursor present.
LDD_WITHOUT_ICCCM = """\
\tlinux-vdso.so.1 (0x00007ffc1d9e5000)
\tlibQt6XcbQpa.so.6 => /opt/townapp/_internal/PySide6/Qt/lib/libQt6XcbQpa.so.6 (0x00007f0c1a000000)
\tlibxcb-cursor.so.0 => /lib/x86_64-linux-gnu/libxcb-cursor.so.0 (0x00007f0c19e00000)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
\tlibxcb-icccm.so.4 => not found
"""


def fake_pyside(tmp_path: Path) -> Path:
    """A PySide6 folder holding every start-up file (empty files: the injected ldd does the reading)."""
    folder = tmp_path / "PySide6"
    for name in syslibs.STARTUP_FILES:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(b"\x7fELF")
    return folder


def ldd_saying(output: str):  # noqa: ANN201 - an ldd stand-in
    def run(files: Sequence[Path]) -> str:
        assert files, "ldd is asked about the start-up files"
        return output
    return run


@LINUX_ONLY
def test_a_missing_xcb_library_is_named_with_its_package_and_one_apt_command(tmp_path: Path) -> None:
    """GIVEN ldd reports libxcb-icccm.so.4 and libxcb-keysyms.so.1 not found WHEN the GUI would start on X11
    THEN the message names both .so files, their Debian/UOS packages and one apt command, in Chinese."""
    problem = gui_start_problem(ON_DESKTOP, fake_pyside(tmp_path), ldd_saying(LDD_WITHOUT_ICCCM))
    assert problem is not None
    assert "缺少系统库 libxcb-icccm.so.4（Debian/UOS 软件包 libxcb-icccm4）" in problem
    assert "缺少系统库 libxcb-keysyms.so.1（Debian/UOS 软件包 libxcb-keysyms1）" in problem
    assert problem.count("sudo apt install -y libxcb-icccm4 libxcb-keysyms1") == 1
    assert "xcb-cursor" not in problem, "a library that is there is not blamed (Qt's own hint did)"
    assert problem.count("libxcb-icccm.so.4") == 1


@LINUX_ONLY
def test_the_refused_start_exits_with_code_4_says_why_and_shows_it(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """GIVEN the missing libraries WHEN start-up asks before creating the QApplication THEN it gets exit code 4,
    the text went to stderr and to the desktop message (for a start from the menu, where nobody reads stderr)."""
    shown: list[str] = []
    code = refuse_gui_start(ON_DESKTOP, fake_pyside(tmp_path), ldd_saying(LDD_WITHOUT_ICCCM), notify=shown.append)
    assert code == EXIT_MISSING_SYSTEM_LIBRARIES == 4
    err = capsys.readouterr().err
    assert err.startswith("无法打开程序窗口") and "libxcb-icccm4" in err
    assert shown == [err.strip()]


@LINUX_ONLY
def test_nothing_is_refused_when_every_library_is_found_or_the_window_is_not_x11(tmp_path: Path) -> None:
    """GIVEN ldd finds everything THEN start-up goes on; GIVEN offscreen (tests) or a Wayland session THEN ldd
    is not even asked (no cost, no false alarm about a plugin that will not be used)."""
    folder = fake_pyside(tmp_path)
    assert refuse_gui_start(ON_DESKTOP, folder, ldd_saying("\tlibxcb.so.1 => /lib/libxcb.so.1 (0x1)\n"),
                            notify=pytest.fail) is None

    def never(files: Sequence[Path]) -> str:
        raise AssertionError("ldd should not run")

    assert gui_start_problem({"QT_QPA_PLATFORM": "offscreen"}, folder, never) is None
    assert gui_start_problem({"XDG_SESSION_TYPE": "wayland", "WAYLAND_DISPLAY": "wayland-0"}, folder, never) is None
    assert gui_start_problem({"QT_QPA_PLATFORM": "xcb", "DISPLAY": ":0"}, folder,
                             ldd_saying(LDD_WITHOUT_ICCCM)) is not None


@LINUX_ONLY
def test_no_display_is_said_in_chinese_instead_of_qt_aborting(tmp_path: Path) -> None:
    """GIVEN every library is there but no DISPLAY (started over ssh) THEN the reason is the missing desktop."""
    problem = gui_start_problem({}, fake_pyside(tmp_path), ldd_saying(""))
    assert problem is not None and "DISPLAY" in problem and "图形桌面" in problem


@LINUX_ONLY
def test_a_damaged_install_is_told_apart_from_a_missing_package(tmp_path: Path) -> None:
    """GIVEN Qt's own libQt6XcbQpa.so.6 is not found THEN the message says the program is incomplete (reinstall
    it), not an apt package; an unknown system library is still named; a start-up file laid out elsewhere (another
    bundle layout) is not itself a reason to refuse."""
    folder = fake_pyside(tmp_path)
    (folder / "QtPdfWidgets.abi3.so").unlink()
    missing = missing_libraries(folder, ldd=ldd_saying("\tlibQt6XcbQpa.so.6 => not found\n\tlibfoo.so.7 => not found\n"))
    assert missing == [MissingLibrary("libQt6XcbQpa.so.6", None), MissingLibrary("libfoo.so.7", None)]
    text = syslibs.describe_missing(missing)
    assert "缺少程序文件 libQt6XcbQpa.so.6（安装不完整，请重新安装本程序）" in text
    assert "缺少系统库 libfoo.so.7（对照表中没有它的软件包名）" in text
    assert "sudo apt" not in text and "请重新安装本程序" in text
    assert missing_libraries(folder, ldd=ldd_saying("")) == []


ABSENT_LIBRARY = "libnone-of-this.so"  # cut to the length of the name it replaces


def patched_x11_plugin(tmp_path: Path) -> tuple[Path, str]:
    """A PySide6 folder whose X11 plugin is a real copy of Qt's with one of its system libraries renamed to a
    name no system has (same length: the ELF stays valid); the rest of Qt/lib is linked in as it is.
    Returns the folder and the absent name."""
    real = syslibs.pyside_dir()
    if real is None or not (real / "Qt/plugins/platforms/libqxcb.so").is_file() or shutil.which("ldd") is None:
        pytest.skip("没有 PySide6 的 X11 插件或 ldd")
    folder = tmp_path / "PySide6"
    plugin = folder / "Qt/plugins/platforms/libqxcb.so"
    plugin.parent.mkdir(parents=True)
    data = (real / "Qt/plugins/platforms/libqxcb.so").read_bytes()
    linked = next(name for name in (b"libxcb-cursor.so.0", b"libxcb.so.1", b"libX11.so.6")
                  if data.count(name + b"\x00") == 1)
    plugin.write_bytes(data.replace(linked + b"\x00", ABSENT_LIBRARY.encode()[:len(linked)] + b"\x00"))
    (folder / "Qt/lib").mkdir()
    for library in (real / "Qt/lib").iterdir():
        (folder / "Qt/lib" / library.name).symlink_to(library)
    for name in syslibs.STARTUP_FILES:
        if name.endswith(".abi3.so"):
            (folder / name).symlink_to(real / name)
    return folder, ABSENT_LIBRARY[:len(linked)]


@LINUX_ONLY
def test_real_ldd_on_a_plugin_linking_to_an_absent_library(tmp_path: Path) -> None:
    """GIVEN Qt's X11 plugin really links to a library this machine lacks WHEN ldd runs for real THEN that library
    is named with the package the table gives it (whatever else this machine may lack is named too)."""
    folder, absent = patched_x11_plugin(tmp_path)
    table = {**LIBRARY_PACKAGES, absent: "libxcb-cursor0"}
    missing = missing_libraries(folder, table=table)
    assert MissingLibrary(absent, "libxcb-cursor0") in missing
    assert all(item.package == LIBRARY_PACKAGES.get(item.soname) for item in missing if item.soname != absent)


@LINUX_ONLY
def test_a_start_in_a_child_process_exits_4_in_chinese_instead_of_sigabrt(tmp_path: Path) -> None:
    """GIVEN the real ldd and the patched plugin WHEN a separate process runs the start-up check THEN it exits
    with 4 (not -6, Qt's abort) and its stderr is the Chinese explanation."""
    folder, absent = patched_x11_plugin(tmp_path)
    script = ("import sys; from pathlib import Path; from townapp.core import syslibs\n"
              "table = {**syslibs.LIBRARY_PACKAGES, sys.argv[2]: 'libxcb-cursor0'}\n"
              "code = syslibs.refuse_gui_start({'DISPLAY': ':99'}, Path(sys.argv[1]), table=table)\n"
              "sys.exit(0 if code is None else code)\n")
    env = {key: value for key, value in os.environ.items() if key not in ("DISPLAY", "QT_QPA_PLATFORM")}
    result = subprocess.run([sys.executable, "-c", script, str(folder), absent], capture_output=True, text=True,
                            encoding="utf-8", env={**env, "PYTHONIOENCODING": "utf-8"}, timeout=60, cwd=ROOT)
    assert result.returncode == 4, result.stderr
    assert f"缺少系统库 {absent}（Debian/UOS 软件包 libxcb-cursor0）" in result.stderr
    assert "sudo apt install -y" in result.stderr and "libxcb-cursor0" in result.stderr
    assert "Aborted" not in result.stderr and "qt.qpa" not in result.stderr


def test_the_table_is_whole_and_the_readme_installs_every_package_it_lists() -> None:
    """GIVEN the derived table THEN every GUI package owns a library in it, and both of the README's first
    command lines install all of them (apt, before pip) so the first command works on a fresh desktop."""
    assert GUI_PACKAGES and set(GUI_PACKAGES) <= set(LIBRARY_PACKAGES.values())
    assert {"libxcb-icccm4", "libxcb-keysyms1", "libxcb-cursor0"} <= set(GUI_PACKAGES)
    lines = (ROOT / "README.md").read_text(encoding="utf-8").split("```bash\n", 1)[1].split("```", 1)[0].splitlines()
    assert len(lines) == 2 and lines[0].endswith("townapp --demo") and "pytest" in lines[1]
    for line in lines:
        apt, _, rest = line.partition(" && ")
        assert rest.startswith("python3 -m venv") and "pip install" in rest
        assert set(apt.split()[4:]) == {"python3-venv", *GUI_PACKAGES}, apt
        assert apt.startswith("sudo apt install -y ")


def test_the_deb_depends_on_every_package_of_the_table(tmp_path: Path) -> None:
    """GIVEN a frozen folder whose only ELF file needs nothing WHEN build_deb computes Depends THEN it still lists
    every GUI package of the table (a library the build machine lacks cannot drop out) after libc6."""
    if shutil.which("objdump") is None or shutil.which("ldd") is None:
        pytest.skip("需要 objdump 与 ldd")
    sys.path.insert(0, str(ROOT / "installers" / "linux"))
    try:
        import build_deb
    finally:
        sys.path.pop(0)
    app = tmp_path / "townapp"
    (app / "_internal").mkdir(parents=True)
    shutil.copyfile(shutil.which("true") or "/bin/true", app / "townapp")
    depends, _glibc, _missing = build_deb.depends_field(app)
    fields = [part.strip() for part in depends.split(",")]
    assert re.fullmatch(r"libc6 \(>= 2\.\d+\)", fields[0])
    assert set(GUI_PACKAGES) <= set(fields[1:])


@LINUX_ONLY
def test_started_from_the_menu_the_reason_is_shown_with_the_desktop_dialog_tool(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN a start from the desktop menu (stderr read by nobody) on a desktop with zenity WHEN start-up is refused
    THEN zenity shows the Chinese text as an error box (Qt cannot show one: it is what failed)."""
    said = tmp_path / "zenity-args"
    tool = tmp_path / "bin" / "zenity"
    tool.parent.mkdir()
    tool.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > "{said}"\n', encoding="utf-8")
    tool.chmod(0o755)
    monkeypatch.setenv("PATH", str(tool.parent))
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setattr(sys, "stderr", open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115 - not a terminal
    code = refuse_gui_start(ON_DESKTOP, fake_pyside(tmp_path), ldd_saying(LDD_WITHOUT_ICCCM))
    sys.stderr.close()
    assert code == 4
    args = said.read_text(encoding="utf-8")
    assert args.startswith("--error\n") and "缺少系统库 libxcb-icccm.so.4（Debian/UOS 软件包 libxcb-icccm4）" in args

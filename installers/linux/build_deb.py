"""Build the .deb for 统信UOS / 银河麒麟 / Debian from the frozen folder ``dist/townapp/``.

Run ``python build_spec.py`` first, then ``python installers/linux/build_deb.py``.
The package installs the frozen folder under /opt/townapp, a /usr/bin/townapp
launcher, a .desktop entry (乡镇党建与基层治理台账) and the icon. Built with
dpkg-deb alone (no debhelper); files are owned by root without fakeroot
(``--root-owner-group``). Depends are computed from the bundle: the packages
of the system libraries its ELF files link to directly (objdump NEEDED through
the bundle's own libraries, then dpkg -S — qt_syslibs.py, the script that also
writes the table in townapp/core/syslibs.py, which the README's apt line and
the start-up check read), never fewer than that table's GUI packages (a library
the build machine lacks is named through the table), and the newest glibc
symbol version any of them needs — building on a newer system than the target
shows up here as ``libc6 (>= 2.xx)`` and dpkg refuses the install clearly
instead of the program failing to start.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APP_DIR = ROOT / "dist" / "townapp"
STAGE_ROOT = ROOT / "build" / "deb"
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import qt_syslibs  # noqa: E402 - installers/linux/qt_syslibs.py, beside this file

PACKAGE = "townapp"
INSTALL_DIR = Path("opt") / PACKAGE
DISPLAY_NAME = "乡镇党建与基层治理台账"
# Plugins whose libraries are only recommended (the .deb's Recommends): Wayland sessions.
RECOMMENDED_ONLY = re.compile(r"(?i)wayland")
# Qt's libraries count only when a module or plugin the bundle keeps loads them (WlShellIntegration, say,
# serves the Wayland plugins alone).
QT_LIBRARIES = re.compile(r"PySide6/Qt/lib/")
# glibc of the systems townships have: a warning names each one whose dpkg would refuse the package.
TARGET_GLIBCS = {"统信UOS 20": (2, 28), "银河麒麟 V10": (2, 31)}
GLIBC_VERSION = re.compile(rb"GLIBC_(\d+)\.(\d+)(?:\.(\d+))?\x00")

LAUNCHER = """#!/bin/sh
# townapp launcher: the frozen program lives in /opt/townapp (data stays in ~/.local/share/townapp).
exec /opt/townapp/townapp "$@"
"""


def build_info(app_dir: Path) -> dict[str, object]:
    path = app_dir / "_internal" / "townapp_build.json"
    if not path.is_file():
        raise SystemExit(f"找不到冻结版：{app_dir}。请先运行 python build_spec.py")
    return json.loads(path.read_text(encoding="utf-8"))


def elf_files(app_dir: Path) -> list[Path]:
    found = []
    for path in app_dir.rglob("*"):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as handle:
                if handle.read(4) == b"\x7fELF":
                    found.append(path)
    return found


def required_glibc(files: list[Path]) -> tuple[int, int]:
    """The newest GLIBC_x.y symbol version any bundled ELF file asks for."""
    newest = (2, 17)
    for path in files:
        for match in GLIBC_VERSION.finditer(path.read_bytes()):
            newest = max(newest, (int(match.group(1)), int(match.group(2))))
    return newest


def depends_field(app_dir: Path, confirm_unknown: bool = False) -> tuple[str, tuple[int, int], set[str]]:
    """(Depends line, glibc the bundle needs, libraries no package could be named for). confirm_unknown: a
    library neither this system nor the table knows is named by Debian's rule when apt-get download shows
    that package holds it (build_old_glibc.sh: the arm64 Qt links libSM/libICE/libtiff/libwebp, which the
    x86_64 table never saw)."""
    files = elf_files(app_dir)
    glibc = required_glibc(files)
    syslibs = qt_syslibs.load_syslibs()
    own = qt_syslibs.own_libraries([app_dir])
    roots = [path for path in files
             if not RECOMMENDED_ONLY.search(where := path.relative_to(app_dir).as_posix()) and not QT_LIBRARIES.search(where)]
    direct = qt_syslibs.direct_system_needs(roots, own)
    found = {soname: path for soname, path in qt_syslibs.ldd_closure(roots, own)[0].items() if soname in direct}
    mapping, unknown = qt_syslibs.packages_for(found, direct - set(found), syslibs.LIBRARY_PACKAGES,
                                               confirm=confirm_unknown)
    derived = {mapping[soname] for soname in direct if soname in mapping}
    extra = derived - set(syslibs.GUI_PACKAGES) - qt_syslibs.RUNTIME_BASE
    if extra:
        print(f"提示：冻结版还直接链接到这些软件包的库（不在 townapp/core/syslibs.py 的表中）：{' '.join(sorted(extra))}")
    packages = sorted((set(syslibs.GUI_PACKAGES) | derived) - {"libc6"})
    return ", ".join([f"libc6 (>= {glibc[0]}.{glibc[1]})", *packages]), glibc, set(unknown)


def desktop_entry(version: str) -> str:
    return "\n".join([
        "[Desktop Entry]",
        "Type=Application",
        f"Name={DISPLAY_NAME}",
        f"Name[zh_CN]={DISPLAY_NAME}",
        "GenericName=党建与基层治理台账",
        "Comment=乡镇党建、网格化管理、党员积分、星级评定台账（离线使用）",
        "Comment[zh_CN]=乡镇党建、网格化管理、党员积分、星级评定台账（离线使用）",
        "Exec=/usr/bin/townapp",
        "Icon=townapp",
        "Terminal=false",
        "Categories=Office;",
        "Keywords=党建;台账;网格;积分;星级;乡镇;",
        "StartupNotify=true",
        "StartupWMClass=townapp",
        f"X-AppVersion={version}",
        "",
    ])


def control_file(version: str, architecture: str, installed_kib: int, depends: str) -> str:
    return "\n".join([
        f"Package: {PACKAGE}",
        f"Version: {version}",
        f"Architecture: {architecture}",
        "Maintainer: townapp developers <townapp@localhost>",
        f"Installed-Size: {installed_kib}",
        f"Depends: {depends}",
        "Recommends: libwayland-client0, libwayland-cursor0, libwayland-egl1",
        "Section: misc",
        "Priority: optional",
        f"Description: {DISPLAY_NAME}（离线桌面版）",
        " 乡镇组织委员、党建办、综治办、文明办和村文书使用的台账软件：基础信息、",
        " 一村一档、网格化管理、党员积分、星级评定、季度报表与证书打印。",
        " 不需要联网，数据只保存在本机用户的数据文件夹（~/.local/share/townapp）中。",
        "",
    ])


def copy_tree(source: Path, target: Path) -> None:
    shutil.copytree(source, target, symlinks=True)
    for path in [target, *target.rglob("*")]:
        if path.is_symlink():
            continue
        if path.is_dir():
            path.chmod(0o755)
        else:
            path.chmod(0o755 if os.access(path, os.X_OK) else 0o644)


def build_deb(app_dir: Path, out_dir: Path, compression: str = "xz", confirm_unknown: bool = False) -> Path:
    info = build_info(app_dir)
    version = str(info["version"])
    architecture = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True,
                                  check=True).stdout.strip()
    stage = STAGE_ROOT / f"{PACKAGE}_{version}_{architecture}"
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir(parents=True)
    os.umask(0o022)

    copy_tree(app_dir, stage / INSTALL_DIR)
    launcher = stage / "usr" / "bin" / PACKAGE
    launcher.parent.mkdir(parents=True)
    launcher.write_text(LAUNCHER, encoding="utf-8")
    launcher.chmod(0o755)
    applications = stage / "usr" / "share" / "applications"
    applications.mkdir(parents=True)
    (applications / f"{PACKAGE}.desktop").write_text(desktop_entry(version), encoding="utf-8")
    icons = ROOT / "resources" / "icons"
    for size_dir, name in (("256x256", "townapp.png"), ("scalable", "townapp.svg")):
        target = stage / "usr" / "share" / "icons" / "hicolor" / size_dir / "apps" / name
        target.parent.mkdir(parents=True)
        shutil.copyfile(icons / name, target)
        target.chmod(0o644)
    docs = stage / "usr" / "share" / "doc" / PACKAGE
    docs.mkdir(parents=True)
    shutil.copyfile(HERE / "copyright", docs / "copyright")
    for path in [p for p in (stage / "usr").rglob("*") if p.is_dir()]:
        path.chmod(0o755)

    depends, glibc, missing = depends_field(app_dir, confirm_unknown)
    installed_kib = sum(p.stat().st_size for p in stage.rglob("*") if p.is_file() and not p.is_symlink()) // 1024
    debian = stage / "DEBIAN"
    debian.mkdir()
    debian.chmod(0o755)
    (debian / "control").write_text(control_file(version, architecture, installed_kib, depends), encoding="utf-8")

    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{PACKAGE}_{version}_{architecture}.deb"
    # xz (smallest) or gzip (6× faster to build, ~35 % larger): every dpkg reads both; zstd would not
    # install on UOS 20's dpkg.
    subprocess.run(["dpkg-deb", "--root-owner-group", f"-Z{compression}", "--build", str(stage), str(target)],
                   check=True, stdout=subprocess.DEVNULL)
    print(f"已生成：{target}（{target.stat().st_size / 1e6:.1f} MB，安装后 {installed_kib / 1024:.0f} MiB）")
    print(f"Depends: {depends}")
    if missing:
        print(f"注意：这些库找不到所属的软件包（不在对照表中，本机也没有）：{'、'.join(sorted(missing))}")
    refused = [f"{name}（{have[0]}.{have[1]}）" for name, have in TARGET_GLIBCS.items() if glibc > have]
    if refused:
        print(f"注意：此包需要 glibc ≥ {glibc[0]}.{glibc[1]}，{'、'.join(refused)}上 dpkg 会拒绝安装；"
              "见 installers/README.md“旧 glibc 与 arm64”（installers/linux/build_old_glibc.sh）")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="由 dist/townapp/ 生成 .deb 安装包")
    parser.add_argument("--app-dir", type=Path, default=APP_DIR, help="冻结版文件夹（默认 dist/townapp）")
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="输出文件夹（默认 dist）")
    parser.add_argument("--compression", choices=("xz", "gzip"), default="xz",
                        help="压缩方式：xz 最小（发布用），gzip 快得多（CI 用）")
    parser.add_argument("--confirm-unknown", action="store_true",
                        help="本机和对照表都不知道的库：按 Debian 命名规则推出软件包，用 apt-get download 确认后写进 Depends")
    args = parser.parse_args(argv)
    if not shutil.which("dpkg-deb"):
        raise SystemExit("需要 dpkg-deb（Debian/统信UOS/银河麒麟自带）")
    build_deb(args.app_dir, args.out, args.compression, args.confirm_unknown)
    return 0


if __name__ == "__main__":
    sys.exit(main())

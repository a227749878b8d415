"""The newest glibc a package really needs: ``objdump -T`` over every ELF file in a .deb or a folder.

    python installers/linux/check_glibc.py dist/old-glibc/amd64/townapp_0.1.0_amd64.deb
    python installers/linux/check_glibc.py --max 2.28 dist/townapp/

银河麒麟 V10 has glibc 2.31 and 统信UOS 20 has 2.28; a bundled file that asks for a newer GLIBC_x.y symbol
version fails to load there (or dpkg refuses the package, whose ``libc6 (>= …)`` build_deb.py derives
from the same symbols). Prints the newest version found, the file that asks for it, and each file above
``--max``; exits 1 when any file is above it. Foreign architectures (arm64 on an x86_64 host) are read
with ``<triplet>-objdump`` (Debian's binutils-aarch64-linux-gnu) when the host's objdump can't.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

# "(GLIBC_2.14)" in the version column of objdump -T (older binutils), or "GLIBC_2.14" without brackets;
# GLIBCXX_/GLIBC_PRIVATE never match.
SYMBOL_VERSION = re.compile(r"\bGLIBC_(\d+)\.(\d+)(?:\.(\d+))?\b")
# ELF e_machine → the cross objdump Debian names for it (used when the host's objdump can't read the file).
CROSS_OBJDUMP = {0xB7: "aarch64-linux-gnu-objdump", 0x3E: "x86_64-linux-gnu-objdump"}

Version = tuple[int, ...]


def parse_version(text: str) -> Version:
    """'2.31' → (2, 31)."""
    return tuple(int(part) for part in text.split("."))


def format_version(version: Version) -> str:
    return ".".join(str(part) for part in version)


def glibc_versions(objdump_output: str) -> set[Version]:
    """Every GLIBC_x.y[.z] symbol version in ``objdump -T`` output (undefined and defined symbols alike)."""
    found: set[Version] = set()
    for line in objdump_output.splitlines():
        for match in SYMBOL_VERSION.finditer(line):
            found.add(tuple(int(part) for part in match.groups() if part is not None))
    return found


def is_elf(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(4) == b"\x7fELF"


def elf_machine(path: Path) -> int:
    """e_machine of an ELF file (offset 18, little-endian for both architectures townapp ships)."""
    with path.open("rb") as handle:
        header = handle.read(20)
    return int.from_bytes(header[18:20], "little")


def objdump_for(path: Path) -> str:
    """The host's objdump, or the cross objdump for a foreign architecture when the host's can't read it."""
    probe = subprocess.run(["objdump", "-f", str(path)], capture_output=True, text=True)
    if probe.returncode == 0:
        return "objdump"
    cross = CROSS_OBJDUMP.get(elf_machine(path))
    if cross and shutil.which(cross):
        return cross
    raise SystemExit(f"objdump 读不了 {path}（{probe.stderr.strip()}）：请安装 binutils-aarch64-linux-gnu")


def dynamic_symbols(path: Path, objdump: str) -> str:
    result = subprocess.run([objdump, "-T", str(path)], capture_output=True, text=True)
    # A static or symbol-less ELF file (PyInstaller's bootloader data, say) has no dynamic symbol table.
    return result.stdout if result.returncode == 0 else ""


def elf_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink() and is_elf(p))


def newest_per_file(folder: Path) -> dict[Path, Version]:
    """Each ELF file under folder → the newest GLIBC version it asks for (files asking none left out)."""
    objdump_by_machine: dict[int, str] = {}
    newest: dict[Path, Version] = {}
    for path in elf_files(folder):
        machine = elf_machine(path)
        if machine not in objdump_by_machine:
            objdump_by_machine[machine] = objdump_for(path)
        versions = glibc_versions(dynamic_symbols(path, objdump_by_machine[machine]))
        if versions:
            newest[path] = max(versions)
    return newest


def report(newest: dict[Path, Version], root: Path, limit: Version) -> tuple[list[str], bool]:
    """(lines to print, whether every file is within limit)."""
    if not newest:
        return ["没有找到引用 GLIBC 符号版本的 ELF 文件"], True
    top = max(newest.values())
    top_files = sorted(str(p.relative_to(root)) for p, v in newest.items() if v == top)
    above = sorted((v, str(p.relative_to(root))) for p, v in newest.items() if v > limit)
    lines = [f"ELF 文件 {len(newest)} 个；最新的 GLIBC 符号版本：GLIBC_{format_version(top)}"
             f"（{'、'.join(top_files[:5])}{' 等' if len(top_files) > 5 else ''}）"]
    if above:
        lines.append(f"高于 {format_version(limit)} 的文件 {len(above)} 个：")
        lines.extend(f"  GLIBC_{format_version(v)}  {name}" for v, name in reversed(above))
    else:
        lines.append(f"全部不高于 GLIBC_{format_version(limit)}")
    return lines, not above


def check(targets: Iterable[Path], limit: Version) -> bool:
    ok = True
    for target in targets:
        print(f"{target}:")
        with tempfile.TemporaryDirectory(prefix="check-glibc-") as tmp:
            if target.is_dir():
                root = target
            else:
                root = Path(tmp)
                subprocess.run(["dpkg-deb", "-x", str(target), str(root)], check=True)
            lines, within = report(newest_per_file(root), root, limit)
        print("\n".join(lines))
        ok = ok and within
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="检查 .deb 或文件夹中 ELF 文件需要的最新 glibc 符号版本")
    parser.add_argument("targets", nargs="+", type=Path, help=".deb 文件或已解开的文件夹")
    parser.add_argument("--max", default="2.31", help="允许的最高 glibc 版本（默认 2.31，银河麒麟 V10）")
    args = parser.parse_args(argv)
    return 0 if check(args.targets, parse_version(args.max)) else 1


if __name__ == "__main__":
    sys.exit(main())

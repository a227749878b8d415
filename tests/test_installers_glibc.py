"""The newest glibc a package asks for (installers/linux/check_glibc.py).

Story: a release for 银河麒麟 V10 (glibc 2.31) must not carry one file that asks for a newer GLIBC symbol
version; the check reads ``objdump -T`` of every ELF file and names the newest version and its file.
The parser is fed objdump's own lines (both the bracketed form of older binutils and the bare one);
one story runs the real objdump on a copy of the running Python.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_SPEC = importlib.util.spec_from_file_location("check_glibc", ROOT / "installers" / "linux" / "check_glibc.py")
assert _SPEC is not None and _SPEC.loader is not None
check_glibc = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(check_glibc)

OBJDUMP_T = """\

libexample.so:     file format elf64-x86-64

DYNAMIC SYMBOL TABLE:
0000000000000000      DF *UND*\t0000000000000000 (GLIBC_2.2.5) memcpy
0000000000000000      DF *UND*\t0000000000000000  GLIBC_2.28  fcntl64
0000000000000000      DF *UND*\t0000000000000000 (GLIBCXX_3.4.29) _ZNSt6thread
0000000000000000      DF *UND*\t0000000000000000 (GLIBC_PRIVATE) __libc_stack_end
0000000000000000  w   D  *UND*\t0000000000000000  Base        __gmon_start__
"""


def test_parser_reads_both_objdump_spellings_and_ignores_libstdcxx_and_private():
    """GIVEN objdump -T lines WHEN parsed THEN only GLIBC_x.y versions count, bracketed or not."""
    assert check_glibc.glibc_versions(OBJDUMP_T) == {(2, 2, 5), (2, 28)}


def test_report_names_the_newest_version_and_every_file_above_the_limit(tmp_path):
    """GIVEN three files' newest versions WHEN reported against 2.31 THEN the top one and the offenders are named."""
    newest = {tmp_path / "a.so": (2, 17), tmp_path / "_internal" / "b.so": (2, 33), tmp_path / "c": (2, 34)}

    lines, within = check_glibc.report(newest, tmp_path, (2, 31))

    assert not within
    assert lines[0] == "ELF 文件 3 个；最新的 GLIBC 符号版本：GLIBC_2.34（c）"
    assert lines[1:] == ["高于 2.31 的文件 2 个：", "  GLIBC_2.34  c", "  GLIBC_2.33  _internal/b.so"]


def test_report_within_the_limit_says_so(tmp_path):
    """GIVEN files no newer than 2.28 WHEN reported against 2.31 THEN all within."""
    lines, within = check_glibc.report({tmp_path / "x.so": (2, 28)}, tmp_path, (2, 31))

    assert within and lines[-1] == "全部不高于 GLIBC_2.31"


@pytest.mark.skipif(not sys.platform.startswith("linux") or not shutil.which("objdump"), reason="objdump, Linux")
def test_a_real_elf_file_above_the_limit_fails_the_check(tmp_path, capsys):
    """GIVEN a folder with a copy of the running Python (an ELF file) WHEN checked with --max 2.0 THEN exit 1."""
    shutil.copy(Path(sys.executable).resolve(), tmp_path / "python")
    (tmp_path / "notes.txt").write_text("不是 ELF", encoding="utf-8")

    assert check_glibc.main(["--max", "2.0", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "ELF 文件 1 个" in out and "python" in out
    assert check_glibc.main(["--max", "99.0", str(tmp_path)]) == 0

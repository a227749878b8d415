"""The Windows installer script agrees with the frozen layout build_spec.py makes (no Windows needed).

Story: nobody here can run ISCC, so a typo in townapp.iss would surface only on the release machine.
Every file the .iss names is checked against what build_spec.py guarantees: sources under
``dist\\townapp`` are the folder build_spec.py writes, ``{app}\\*.exe`` are the executables its spec builds
on Windows, other sources exist in the checkout, and the version it reads (version.iss, or /DMyAppVersion)
is the one ``townapp --version`` prints.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path, PureWindowsPath

import pytest

from townapp import cli

ROOT = Path(__file__).resolve().parent.parent
ISS = ROOT / "installers" / "windows" / "townapp.iss"
_SPEC = importlib.util.spec_from_file_location("build_spec_of_checkout", ROOT / "build_spec.py")
assert _SPEC is not None and _SPEC.loader is not None
build_spec = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(build_spec)

DEFINE = re.compile(r'^[ \t]*#define\s+(\w+)\s+(.+)$', re.MULTILINE)
ENTRY_PATH = re.compile(r'\b(Source|Filename|SetupIconFile|UninstallDisplayIcon|MessagesFile)\s*[:=]\s*"?([^";\r\n]+)"?')
APP_PATH = re.compile(r'\{app\}\\([^"\s]+)')


def iss_text() -> str:
    return ISS.read_text(encoding="utf-8-sig")


def defines() -> dict[str, str]:
    return {name: value.strip() for name, value in DEFINE.findall(iss_text())}


def expand(value: str) -> str:
    """ISPP's {#Name} with the script's own #defines (Root becomes the checkout, as ISCC sees it; the version is
    pyproject's, as build_spec.py passes it)."""
    names = {**defines(), "Root": str(ROOT), "MyAppVersion": build_spec.project_version()}
    return re.sub(r"\{#(\w+)\}", lambda m: names[m.group(1)].strip('"'), value)


def checkout_path(windows_path: str) -> Path:
    relative = PureWindowsPath(windows_path.removeprefix(str(ROOT))).parts
    return ROOT.joinpath(*[part for part in relative if part not in ("\\", "/")])


def windows_executables() -> set[str]:
    """The EXE names build_spec.py's spec makes on Windows (townapp.exe, townapp-cli.exe)."""
    spec = build_spec.SPEC.format(datas=[], hiddenimports=[], keep="", drop="", launcher="l.py", root=".",
                                  excludes=[], console=False, icon="townapp.ico", cli_exe=True)
    return {f"{name}.exe" for name in re.findall(r'name="([^"]+)", console', spec)}


def test_the_script_is_utf8_with_bom():
    """GIVEN the .iss WHEN read as bytes THEN it starts with the UTF-8 BOM (Inno Setup reads Chinese from it)."""
    assert ISS.read_bytes().startswith(b"\xef\xbb\xbf")


def test_sources_are_the_frozen_folder_build_spec_writes_or_files_of_the_checkout():
    """GIVEN every Source/icon path WHEN expanded THEN dist\\townapp is build_spec's APP_DIR; the rest exist."""
    paths = [(key, expand(value)) for key, value in ENTRY_PATH.findall(iss_text()) if "{app}" not in value]
    sources = [value for key, value in paths if key == "Source"]
    assert sources, "the .iss installs something"
    for value in sources:
        folder = checkout_path(value.removesuffix("\\*"))
        assert folder == build_spec.APP_DIR, f"{value} is not build_spec.py's frozen folder"
    for key, value in paths:
        if key != "Source" and not value.startswith(("{", "compiler:")):
            assert checkout_path(value).is_file(), f"{key}: {value}"
    assert checkout_path(expand("{#Root}\\resources\\icons\\townapp.ico")) == build_spec.RESOURCES / "icons" / "townapp.ico"


def test_every_program_file_the_shortcuts_name_is_built_by_the_spec_on_windows():
    """GIVEN {app}\\… in shortcuts, the uninstall icon and [Run] WHEN expanded THEN each is an exe the spec builds."""
    named = {PureWindowsPath(m).name for m in APP_PATH.findall(expand(iss_text()))}

    assert named == {"townapp.exe", "townapp-cli.exe"}
    assert named <= windows_executables()
    assert defines()["MyAppExe"] == '"townapp.exe"'


def test_the_version_the_installer_reads_is_the_one_townapp_prints(tmp_path, monkeypatch, capsys):
    """GIVEN build_spec writing version.iss WHEN the .iss includes it THEN its version is pyproject's and --version's."""
    include = re.search(r'#include AddBackslash\(SourcePath\) \+ "([^"]+)"', iss_text())
    assert include, "the .iss includes build_spec.py's version file"
    included = (ISS.parent / PureWindowsPath(include.group(1)).as_posix()).resolve()
    assert included == (build_spec.BUILD / "installer" / "version.iss").resolve()
    assert re.search(rf'#if FileExists\(AddBackslash\(SourcePath\) \+ "{re.escape(include.group(1))}"\)', iss_text())

    monkeypatch.setattr(build_spec, "BUILD", tmp_path)
    written = build_spec.write_iss_version(build_spec.project_version()).read_text(encoding="utf-8")
    with pytest.raises(SystemExit):
        cli.main(["--version"])
    printed = capsys.readouterr().out.strip()

    assert written == f'#define MyAppVersion "{build_spec.project_version()}"\n'
    assert printed == f"townapp {build_spec.project_version()}"
    assert "townapp-{#MyAppVersion}-setup" in iss_text()

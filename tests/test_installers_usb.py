"""The offline USB folder (installers/linux/make_usb_folder.py).

Story: the township's IT person copies one folder to a stick — both architectures' .deb files, 安装说明.txt,
SHA256SUMS and install.sh — and on each machine ``sh install.sh`` checks the files, picks the package for
the machine's architecture and installs it. The .deb files here are fake (a few bytes); dpkg, apt-get,
sudo and townapp are stand-in scripts on PATH that write down how they were called.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_SPEC = importlib.util.spec_from_file_location("make_usb_folder", ROOT / "installers" / "linux" / "make_usb_folder.py")
assert _SPEC is not None and _SPEC.loader is not None
make_usb_folder = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(make_usb_folder)

POSIX_TOOLS = pytest.mark.skipif(not sys.platform.startswith("linux") or not shutil.which("sha256sum"),
                                 reason="sh 与 sha256sum（Linux）")


def fake_debs(folder: Path, version: str = "0.1.0", archs: tuple[str, ...] = ("amd64", "arm64")) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    debs = []
    for arch in archs:
        deb = folder / arch / f"townapp_{version}_{arch}.deb"
        deb.parent.mkdir(exist_ok=True)
        deb.write_bytes(f"!<arch>\nfake {arch} package\n".encode())
        debs.append(deb)
    return debs


def stand_ins(bin_dir: Path, arch: str) -> Path:
    """dpkg (says the architecture), apt-get, sudo and townapp that log their arguments to calls.log."""
    bin_dir.mkdir()
    log = bin_dir / "calls.log"
    scripts = {
        "dpkg": f'echo "dpkg $*" >> {log}\n[ "$1" = --print-architecture ] && echo {arch}\nexit 0',
        "apt-get": f'echo "apt-get $*" >> {log}',
        "sudo": f'echo "sudo $*" >> {log}\nexec "$@"',
        "townapp": f'echo "townapp $*" >> {log}',
    }
    for name, body in scripts.items():
        (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
        (bin_dir / name).chmod(0o755)
    return log


def run_install(folder: Path, bin_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(["sh", str(folder / "install.sh")], capture_output=True, text=True, env=env, cwd=bin_dir)


def test_the_folder_holds_both_packages_the_instructions_and_checksums(tmp_path):
    """GIVEN amd64 and arm64 packages WHEN the folder is made THEN it has both, 安装说明.txt, SHA256SUMS, install.sh."""
    folder = make_usb_folder.make_folder(fake_debs(tmp_path / "dist"), tmp_path / "usb", ["amd64", "arm64"])

    assert folder == tmp_path / "usb" / "townapp-0.1.0"
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["townapp_0.1.0_amd64.deb", "townapp_0.1.0_arm64.deb", "安装说明.txt", "SHA256SUMS", "install.sh"])
    text = (folder / "安装说明.txt").read_text(encoding="utf-8")
    assert "uname -m" in text and "sha256sum -c SHA256SUMS" in text and "sudo apt install ./townapp_0.1.0_amd64.deb" in text
    assert "显示 x86_64   → 用 townapp_0.1.0_amd64.deb" in text and "显示 aarch64  → 用 townapp_0.1.0_arm64.deb" in text
    assert "sudo dpkg -i" in text and "缺少依赖" in text


@POSIX_TOOLS
def test_sha256sum_accepts_the_checksum_file_as_written(tmp_path):
    """GIVEN the folder WHEN sha256sum -c SHA256SUMS runs in it THEN every file is OK."""
    folder = make_usb_folder.make_folder(fake_debs(tmp_path / "dist"), tmp_path / "usb", ["amd64", "arm64"])

    result = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=folder, capture_output=True, text=True)

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(": OK") == 3


@POSIX_TOOLS
def test_install_sh_installs_the_package_of_the_machines_architecture(tmp_path):
    """GIVEN an arm64 machine WHEN sh install.sh THEN apt-get installs the arm64 file and the self-test runs."""
    folder = make_usb_folder.make_folder(fake_debs(tmp_path / "dist"), tmp_path / "usb", ["amd64", "arm64"])
    log = stand_ins(tmp_path / "bin", "arm64")

    result = run_install(folder, tmp_path / "bin")

    assert result.returncode == 0, result.stdout + result.stderr
    calls = log.read_text(encoding="utf-8")
    assert "apt-get install -y ./townapp_0.1.0_arm64.deb" in calls and "amd64.deb" not in calls
    assert "townapp selftest" in calls


@POSIX_TOOLS
def test_install_sh_refuses_a_damaged_copy_before_installing(tmp_path):
    """GIVEN a package changed after the checksums were written WHEN sh install.sh THEN nothing is installed."""
    folder = make_usb_folder.make_folder(fake_debs(tmp_path / "dist"), tmp_path / "usb", ["amd64", "arm64"])
    (folder / "townapp_0.1.0_amd64.deb").write_bytes(b"truncated")
    log = stand_ins(tmp_path / "bin", "amd64")

    result = run_install(folder, tmp_path / "bin")

    assert result.returncode == 1
    assert "文件不完整或已损坏" in result.stderr
    assert not log.exists() or "apt-get" not in log.read_text(encoding="utf-8")


def test_two_versions_two_packages_of_one_architecture_or_a_missing_one_are_refused(tmp_path):
    """GIVEN 0.1.0 amd64 with 0.2.0 arm64, two amd64 files, or amd64 alone WHEN the folder is made THEN it says why."""
    mixed = fake_debs(tmp_path / "a", "0.1.0", ("amd64",)) + fake_debs(tmp_path / "b", "0.2.0", ("arm64",))
    with pytest.raises(SystemExit, match="版本不一致"):
        make_usb_folder.make_folder(mixed, tmp_path / "usb", ["amd64", "arm64"])
    with pytest.raises(SystemExit, match="同一架构有两个安装包"):
        make_usb_folder.make_folder(fake_debs(tmp_path / "d") + fake_debs(tmp_path / "e", archs=("amd64",)),
                                    tmp_path / "usb", ["amd64", "arm64"])
    with pytest.raises(SystemExit, match="缺少这些架构的安装包：arm64"):
        make_usb_folder.make_folder(fake_debs(tmp_path / "c", "0.1.0", ("amd64",)), tmp_path / "usb", ["amd64", "arm64"])


@pytest.mark.skipif(not shutil.which("dpkg-deb"), reason="dpkg-deb")
def test_the_instructions_state_the_glibc_the_packages_depend_on(tmp_path):
    """GIVEN packages whose Depends say libc6 (>= 2.30) WHEN the folder is made THEN 安装说明 says 2.30, which systems fit."""
    debs = []
    for arch in ("amd64", "arm64"):
        stage = tmp_path / f"stage-{arch}"
        (stage / "DEBIAN").mkdir(parents=True)
        (stage / "DEBIAN" / "control").write_text(
            f"Package: townapp\nVersion: 0.1.0\nArchitecture: {arch}\nMaintainer: t <t@localhost>\n"
            "Depends: libc6 (>= 2.30), libxcb1\nDescription: test\n", encoding="utf-8")
        deb = tmp_path / f"townapp_0.1.0_{arch}.deb"
        subprocess.run(["dpkg-deb", "--root-owner-group", "-Zgzip", "--build", str(stage), str(deb)],
                       check=True, capture_output=True)
        debs.append(deb)

    folder = make_usb_folder.make_folder(debs, tmp_path / "usb", ["amd64", "arm64"])

    text = (folder / "安装说明.txt").read_text(encoding="utf-8")
    assert "本安装包要求 glibc 2.30 或更新（银河麒麟 V10 为 2.31，可以安装；统信UOS 20 为 2.28，不能安装）" in text

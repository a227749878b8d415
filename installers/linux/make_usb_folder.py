"""One folder to copy to a USB stick: the .deb of each architecture, 安装说明.txt, SHA256SUMS and install.sh.

    python installers/linux/make_usb_folder.py                      # dist/old-glibc/{amd64,arm64}/ → dist/usb/townapp-<版本>/
    python installers/linux/make_usb_folder.py --debs a.deb b.deb --out /media/usb

The township's IT person copies the folder, then on each machine runs ``sh install.sh`` (checks every
file against SHA256SUMS, picks the .deb for ``dpkg --print-architecture``, installs it and runs the
self-test) — or does the same by hand with the two commands 安装说明.txt gives. Every .deb must carry the
same version; amd64 and arm64 are both required unless ``--arch`` says otherwise.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEB_NAME = re.compile(r"^townapp_(?P<version>[^_]+)_(?P<arch>[a-z0-9]+)\.deb$")
MACHINES = {"amd64": "兆芯、海光、英特尔、AMD 等", "arm64": "飞腾、鲲鹏等"}
# glibc of the systems townships have (installers/README.md): 安装说明.txt says which of them the package fits.
SYSTEM_GLIBCS = {"银河麒麟 V10": (2, 31), "统信UOS 20": (2, 28)}
LIBC_DEPENDS = re.compile(r"\blibc6 \(>= (\d+)\.(\d+)")
CHECKSUMS = "SHA256SUMS"
INSTRUCTIONS = "安装说明.txt"
INSTALLER = "install.sh"

INSTALL_SH = """\
#!/bin/sh
# 乡镇党建与基层治理台账：先核对文件，再按本机架构安装，最后自检。用法：sh install.sh
set -e
cd "$(dirname "$0")"
echo "1/3 核对文件（SHA256SUMS）……"
if ! sha256sum -c {checksums}; then
    echo "文件不完整或已损坏：请从原始U盘重新复制整个文件夹。" >&2
    exit 1
fi
arch=$(dpkg --print-architecture)
deb=$(ls townapp_*_"$arch".deb 2>/dev/null | head -n 1)
if [ -z "$deb" ]; then
    echo "这个文件夹里没有本机架构（$arch）的安装包。" >&2
    exit 1
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "2/3 安装 $deb ……"
if ! $sudo apt-get install -y "./$deb"; then
    echo "apt 未能安装（可能缺少系统库且本机不能联网），改用 dpkg -i：" >&2
    $sudo dpkg -i "./$deb" || {{
        echo "安装未完成：缺少上面列出的系统软件包。请从系统安装光盘或内网软件源安装它们，" >&2
        echo "或联系县里的信息员；然后重新运行 sh install.sh。" >&2
        exit 1
    }}
fi
echo "3/3 自检……"
townapp selftest
echo "安装完成：在开始菜单中打开“乡镇党建与基层治理台账”。"
"""

INSTRUCTIONS_TEXT = """\
乡镇党建与基层治理台账 {version} —— 离线安装说明（统信UOS、银河麒麟、Debian）

一、选哪个文件
  在电脑上打开“终端”，输入  uname -m  回车：
{choices}
  安装后数据保存在各人的  ~/.local/share/townapp  文件夹，卸载或升级都不会删除。

二、最简单的办法（推荐）
  把整个文件夹复制到电脑上（或直接在U盘里），在这个文件夹中打开终端，输入：
      sh install.sh
  它会先核对文件，再自动选对架构安装，最后运行自检。需要输入本机管理员（sudo）密码。

三、手动安装
  1. 核对文件是否完整（每个文件都应显示“成功”或 OK）：
      sha256sum -c {checksums}
  2. 安装（把文件名换成“一、选哪个文件”中选中的那个）：
      sudo apt install ./{example}
     或者：
      sudo dpkg -i {example}
  3. 自检：  townapp selftest     全部显示“通过”即可使用。

四、常见问题
  - 提示缺少依赖（dpkg: dependency problems / 依赖关系问题）：
    这些是系统自带的图形界面库。能连内网软件源时运行  sudo apt -f install  即可自动补齐；
    不能联网时，从系统安装光盘或单位的内网软件源安装提示中列出的软件包，然后重新安装。
    程序启动或自检时如缺少系统库，也会用中文写明缺哪个库、装哪个软件包。
  - 提示需要更新的 libc6 / glibc：系统版本太旧。本安装包要求 glibc {glibc} 或更新（{systems}）。
    请联系县里的信息员。
  - 核对文件时显示“失败”或 FAILED：文件在复制时损坏了，请重新复制整个文件夹。
"""


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def packages_by_arch(debs: Iterable[Path]) -> tuple[str, dict[str, Path]]:
    """(the one version, architecture → .deb); a name not townapp_<version>_<arch>.deb, two versions or two
    packages of one architecture refuse."""
    found: dict[str, Path] = {}
    versions: set[str] = set()
    for deb in debs:
        match = DEB_NAME.match(deb.name)
        if not match:
            raise SystemExit(f"不是 townapp 的安装包文件名：{deb.name}")
        versions.add(match["version"])
        if match["arch"] in found:
            raise SystemExit(f"同一架构有两个安装包：{found[match['arch']]}、{deb}")
        found[match["arch"]] = deb
    if len(versions) != 1:
        raise SystemExit(f"安装包的版本不一致：{'、'.join(sorted(versions)) or '（没有安装包）'}")
    return versions.pop(), found


def required_glibc(packages: Iterable[Path], fallback: str) -> str:
    """The newest ``libc6 (>= x.y)`` the packages' Depends name (dpkg-deb -f), or fallback when none can be read."""
    found: list[tuple[int, int]] = []
    if shutil.which("dpkg-deb"):
        for deb in packages:
            result = subprocess.run(["dpkg-deb", "-f", str(deb), "Depends"], capture_output=True, text=True)
            match = LIBC_DEPENDS.search(result.stdout) if result.returncode == 0 else None
            if match:
                found.append((int(match.group(1)), int(match.group(2))))
    return ".".join(map(str, max(found))) if found else fallback


def systems_line(glibc: str) -> str:
    """'银河麒麟 V10 为 2.31，可以安装；统信UOS 20 为 2.28，不能安装'."""
    needed = tuple(int(part) for part in glibc.split("."))
    return "；".join(f"{name} 为 {have[0]}.{have[1]}，{'可以安装' if have >= needed else '不能安装'}"
                    for name, have in SYSTEM_GLIBCS.items())


def instructions(version: str, packages: dict[str, Path], glibc: str) -> str:
    machine_of = {"amd64": "x86_64", "arm64": "aarch64"}
    choices = "\n".join(f"    显示 {machine_of.get(arch, arch):<8} → 用 {deb.name}（{MACHINES.get(arch, arch)}的处理器）"
                        for arch, deb in sorted(packages.items()))
    example = packages[sorted(packages)[0]].name
    return INSTRUCTIONS_TEXT.format(version=version, choices=choices, checksums=CHECKSUMS, example=example, glibc=glibc,
                                    systems=systems_line(glibc))


def make_folder(debs: Iterable[Path], out: Path, architectures: Iterable[str], glibc: str = "2.31") -> Path:
    """Write out/townapp-<version>/ and return it (an old folder of that name is replaced). glibc: what
    安装说明.txt states when the packages' Depends can't be read (the fake packages of the tests)."""
    version, packages = packages_by_arch(debs)
    missing = [arch for arch in architectures if arch not in packages]
    if missing:
        raise SystemExit(f"缺少这些架构的安装包：{'、'.join(missing)}（先运行 installers/linux/build_old_glibc.sh）")
    folder = out / f"townapp-{version}"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for deb in packages.values():
        shutil.copyfile(deb, folder / deb.name)
    (folder / INSTALLER).write_text(INSTALL_SH.format(checksums=CHECKSUMS), encoding="utf-8", newline="\n")
    (folder / INSTALLER).chmod(0o755)
    glibc = required_glibc(packages.values(), glibc)
    (folder / INSTRUCTIONS).write_text(instructions(version, packages, glibc), encoding="utf-8", newline="\n")
    checked = sorted([*(deb.name for deb in packages.values()), INSTALLER])
    (folder / CHECKSUMS).write_text("".join(f"{sha256(folder / name)}  {name}\n" for name in checked),
                                    encoding="utf-8", newline="\n")
    return folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="生成离线安装U盘文件夹（两种架构的 .deb、安装说明、校验和）")
    parser.add_argument("--debs", nargs="*", type=Path,
                        help="安装包（默认 dist/old-glibc/*/townapp_*.deb，由 build_old_glibc.sh 生成）")
    parser.add_argument("--out", type=Path, default=ROOT / "dist" / "usb", help="输出位置（默认 dist/usb）")
    parser.add_argument("--arch", default="amd64,arm64", help="必须包含的架构（默认 amd64,arm64）")
    parser.add_argument("--glibc", default="2.31",
                        help="读不出安装包 Depends 中的 libc6 版本时，安装说明中写明的最低 glibc 版本（默认 2.31）")
    args = parser.parse_args(argv)
    architectures = [a for a in args.arch.split(",") if a]
    # build_old_glibc.sh's folders, one per architecture (amd64-glibc2.28/ is the experiment, not taken)
    debs = args.debs if args.debs else [deb for arch in architectures
                                        for deb in sorted((ROOT / "dist" / "old-glibc" / arch).glob(f"townapp_*_{arch}.deb"))]
    folder = make_folder(debs, args.out, architectures, args.glibc)
    print(f"已生成：{folder}")
    for path in sorted(folder.iterdir()):
        print(f"  {path.name}  {path.stat().st_size / 1e6:.1f} MB")
    print(f"在目标电脑上核对：cd {folder.name} && sha256sum -c {CHECKSUMS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

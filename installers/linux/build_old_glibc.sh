#!/usr/bin/env bash
# Build the frozen app and the .deb inside a Debian 11 (bullseye, glibc 2.31) root, then install it in a
# *clean* Debian 11 root of the same architecture and run the installed program's self-test there.
# 银河麒麟 V10 has glibc 2.31; a package built on Debian 12 (2.36) is refused by its dpkg.
#
#   sudo installers/linux/build_old_glibc.sh amd64            # x86_64
#   sudo installers/linux/build_old_glibc.sh arm64            # 飞腾/鲲鹏: through qemu-user-static (after amd64)
#
# Options (environment): CHROOTS=/work/chroots (cached roots, outside the repo), SUITE=bullseye,
# MIRROR=http://deb.debian.org/debian, COMPRESSION=xz|gzip, PYSIDE=<version> (the arm64 default pins
# 6.8.0.2, the newest aarch64 wheel for glibc 2.31), STEPS="build test" (default; also "deb": only the
# .deb from the frozen folder already built, "repack": gzip → xz on the host), GLIBC_TARGET=2.28 (amd64
# only, an experiment for 统信UOS 20: see below and installers/README.md).
# Needs (host, root): debootstrap, and for arm64 qemu-user-static + binfmt-support with binfmt_misc
# mounted (the script mounts it and enables qemu-aarch64 when it can), binutils-aarch64-linux-gnu for
# check_glibc.py on the arm64 package.
#
# Debian 11's Python is 3.9 and townapp needs 3.10+: Python 3.11 is compiled from Debian 12's own source
# package (python3.11, fetched with apt-get source) inside the old root, so libpython and everything the
# bundle carries are linked against glibc 2.31. For arm64 it is cross-compiled in the amd64 root with
# Debian 11's aarch64 gcc (under qemu it would take hours), so build amd64 first.
# GLIBC_TARGET=2.28: the same root, but Python is built without sem_clockwait and with exp/exp2/log/log2/pow
# bound to their pre-2.29 symbol versions (/opt/python3.11-g228), and bundled system libraries that still
# ask for more than 2.28 (Debian 11's libsystemd, libsqlite3, libpng16) are left out, so the target's own
# copies are used and build_deb.py puts their packages in Depends. Output: dist/old-glibc/amd64-glibc2.28/.
# Tested only in the Debian 11 root (no glibc 2.28 root is reachable here). Roots are cached: <suite>-<arch>-base (debootstrap +
# build tools, Python 3.11 under /opt/python3.11, pip's cache) and <suite>-<arch>-clean (plain minbase,
# copied afresh to <suite>-<arch>-test for every test). Output: dist/old-glibc/<arch>/ in the checkout
# (the .deb, the self-test's JSON and check_glibc.py's report). Not run by CI: by hand or on release.
set -euo pipefail

ARCH=${1:?用法：build_old_glibc.sh amd64|arm64}
foreign_arch_of() {
  case "$1-$(uname -m)" in amd64-x86_64 | arm64-aarch64) return 1 ;; *) return 0 ;; esac
}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
CHROOTS=${CHROOTS:-/work/chroots}
SUITE=${SUITE:-bullseye}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
# Under qemu, xz over ~300 MB takes the better part of an hour: a foreign architecture's package is built
# with gzip inside the root and recompressed with xz by the host's dpkg-deb (same files, same control).
if foreign_arch_of "$ARCH"; then COMPRESSION=${COMPRESSION:-gzip}; else COMPRESSION=${COMPRESSION:-xz}; fi
STEPS=${STEPS:-build test}
PY_VERSION=3.11
PY_PREFIX=/opt/python$PY_VERSION
GLIBC_TARGET=${GLIBC_TARGET:-}
VENV=/build/venv
if [ "$ARCH" = arm64 ]; then PYSIDE=${PYSIDE-6.8.0.2}; else PYSIDE=${PYSIDE-}; fi
BUILD_ROOT=$CHROOTS/$SUITE-$ARCH-base
CLEAN_ROOT=$CHROOTS/$SUITE-$ARCH-clean
TEST_ROOT=$CHROOTS/$SUITE-$ARCH-test
OUT=$REPO/dist/old-glibc/$ARCH
MAX_GLIBC=2.31
if [ -n "$GLIBC_TARGET" ]; then
  if [ "$GLIBC_TARGET" != 2.28 ] || [ "$ARCH" != amd64 ]; then
    echo "GLIBC_TARGET 只支持 2.28，且只用于 amd64（aarch64 的 PySide6 轮子至少要 glibc 2.31）" >&2
    exit 2
  fi
  PY_PREFIX=/opt/python$PY_VERSION-g228
  VENV=/build/venv-g228
  OUT=$REPO/dist/old-glibc/amd64-glibc2.28
  MAX_GLIBC=2.28
fi
SRC_CACHE=$CHROOTS/src
NICE="nice -n 10"

say() { printf '\n== %s  %s\n' "$(date -u +%H:%M:%S)" "$*"; }

# --- foreign architecture: the kernel must hand arm64 ELF files to qemu (binfmt_misc, F flag) ----------
foreign_arch() { foreign_arch_of "$ARCH"; }
ensure_binfmt() {
  foreign_arch || return 0
  local entry=/proc/sys/fs/binfmt_misc/qemu-aarch64
  [ -e /proc/sys/fs/binfmt_misc/register ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  [ -e "$entry" ] || update-binfmts --enable qemu-aarch64
  if ! grep -q '^enabled' "$entry" 2>/dev/null; then
    echo "无法注册 qemu-aarch64（binfmt_misc）：安装 qemu-user-static binfmt-support，并确认本机允许挂载 binfmt_misc" >&2
    exit 2
  fi
}

# --- mounts for a chroot, always undone ------------------------------------------------------------------
MOUNTED=()
mount_root() {
  local root=$1
  mount -t proc proc "$root/proc" && MOUNTED+=("$root/proc")
  mount --bind /dev "$root/dev" && MOUNTED+=("$root/dev")
  mount --bind /dev/pts "$root/dev/pts" && MOUNTED+=("$root/dev/pts")
  cp /etc/resolv.conf "$root/etc/resolv.conf"
}
unmount_all() {
  local i
  for ((i = ${#MOUNTED[@]} - 1; i >= 0; i--)); do umount -l "${MOUNTED[$i]}" 2>/dev/null || true; done
  MOUNTED=()
}
trap unmount_all EXIT
fresh_root() {  # fresh_root SOURCE TARGET — never rm -rf a root that still has /dev or /proc bound inside
  local source=$1 target=$2
  if findmnt -rn -o TARGET | grep -q "^$target/"; then
    echo "$target 下仍有挂载点（上次中断？）：先 umount 再重试" >&2
    exit 2
  fi
  rm -rf "$target" && cp -a "$source" "$target"
}
in_root() {  # in_root ROOT COMMAND… — a clean environment, as CI's self-test has
  local root=$1; shift
  chroot "$root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
    LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive PYTHONIOENCODING=utf-8 "$@"
}

debootstrap_root() {  # debootstrap_root TARGET [--include=…]
  local target=$1; shift
  [ -e "$target/.townapp-debootstrap-done" ] && return 0
  say "debootstrap $SUITE $ARCH → $target"
  rm -rf "$target"
  $NICE debootstrap --arch="$ARCH" --variant=minbase "$@" "$SUITE" "$target" "$MIRROR"
  touch "$target/.townapp-debootstrap-done"
}

# The packages of the system libraries the GUI links to (townapp/core/syslibs.py's table), so that ldd
# resolves them in the build root and build_deb.py names each by dpkg -S of *this* release.
gui_packages() {
  sed -n '/^GUI_PACKAGES/,/^)/p' "$REPO/townapp/core/syslibs.py" | grep -o '"[^"]*"' | tr -d '"' | tr '\n' ' '
}

python_tarball() {  # Debian 12's python3.11 source (apt-get source, cached in $SRC_CACHE)
  local tarball
  tarball=$(ls "$SRC_CACHE"/python${PY_VERSION}_*.orig.tar.* 2>/dev/null | head -n 1 || true)
  if [ -z "$tarball" ]; then
    mkdir -p "$SRC_CACHE/apt/lists/partial"
    echo "deb-src $MIRROR bookworm main" > "$SRC_CACHE/apt/sources.list"
    local apt_opts=(-o "Dir::Etc::SourceList=$SRC_CACHE/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
      -o "Dir::State::Lists=$SRC_CACHE/apt/lists")
    apt-get "${apt_opts[@]}" update -q >&2
    (cd "$SRC_CACHE" && apt-get "${apt_opts[@]}" source --download-only "python$PY_VERSION" >&2)
    tarball=$(ls "$SRC_CACHE"/python${PY_VERSION}_*.orig.tar.* | head -n 1)
  fi
  echo "$tarball"
}

native_python() {  # configure + make inside the build root itself
  local tarball
  tarball=$(python_tarball)
  say "compile Python $PY_VERSION from $(basename "$tarball") into $PY_PREFIX (glibc of $SUITE)"
  rm -rf "$BUILD_ROOT/build/python-src" && mkdir -p "$BUILD_ROOT/build/python-src"
  tar -xf "$tarball" -C "$BUILD_ROOT/build/python-src" --strip-components=1
  local older=""
  if [ -n "$GLIBC_TARGET" ]; then
    printf '%s\n' '/* glibc 2.29 gave these libm functions new symbol versions: bind the x86_64 baseline ones. */' \
      '__asm__(".symver exp,exp@GLIBC_2.2.5");' '__asm__(".symver exp2,exp2@GLIBC_2.2.5");' \
      '__asm__(".symver log,log@GLIBC_2.2.5");' '__asm__(".symver log2,log2@GLIBC_2.2.5");' \
      '__asm__(".symver pow,pow@GLIBC_2.2.5");' > "$BUILD_ROOT/build/glibc228.h"
    older="ac_cv_func_sem_clockwait=no CFLAGS='-include /build/glibc228.h'"
  fi
  in_root "$BUILD_ROOT" sh -c "cd /build/python-src && ./configure -q --prefix=$PY_PREFIX --enable-shared $older \
    LDFLAGS=-Wl,-rpath,$PY_PREFIX/lib && $NICE make -s -j$(nproc) && make -s altinstall"
  rm -rf "$BUILD_ROOT/build/python-src"
}

# A foreign architecture: compiling CPython under qemu takes hours (its configure alone ran >7 min), so it is
# cross-compiled in the amd64 root of the same release with Debian 11's own cross gcc and the arm64 -dev
# packages (multiarch) — the same glibc 2.31 headers and libraries — then copied into the arm64 root.
cross_python() {
  local host_root=$CHROOTS/$SUITE-amd64-base triplet
  case "$ARCH" in arm64) triplet=aarch64-linux-gnu ;; *) echo "未知架构：$ARCH" >&2; exit 2 ;; esac
  if [ ! -x "$host_root$PY_PREFIX/bin/python$PY_VERSION" ]; then
    echo "先运行 build_old_glibc.sh amd64：交叉编译需要 $host_root 中的 Python $PY_VERSION" >&2
    exit 2
  fi
  local tarball
  tarball=$(python_tarball)
  mount_root "$host_root"
  if [ ! -e "$host_root/.townapp-cross-$ARCH" ]; then
    say "cross toolchain for $ARCH in $host_root"
    in_root "$host_root" dpkg --add-architecture "$ARCH"
    in_root "$host_root" apt-get update -q
    in_root "$host_root" $NICE apt-get install -y -q --no-install-recommends "crossbuild-essential-$ARCH" \
      "libssl-dev:$ARCH" "zlib1g-dev:$ARCH" "libbz2-dev:$ARCH" "liblzma-dev:$ARCH" "libffi-dev:$ARCH" \
      "libsqlite3-dev:$ARCH" "uuid-dev:$ARCH"
    touch "$host_root/.townapp-cross-$ARCH"
  fi
  say "cross-compile Python $PY_VERSION for $ARCH ($triplet-gcc of $SUITE) into $PY_PREFIX"
  rm -rf "$host_root/build/python-cross-src" "$host_root/build/python-cross-install"
  mkdir -p "$host_root/build/python-cross-src"
  tar -xf "$tarball" -C "$host_root/build/python-cross-src" --strip-components=1
  in_root "$host_root" sh -c "cd /build/python-cross-src && ./configure -q --build=x86_64-linux-gnu \
    --host=$triplet --prefix=$PY_PREFIX --enable-shared --without-ensurepip \
    --with-build-python=$PY_PREFIX/bin/python$PY_VERSION ac_cv_file__dev_ptmx=yes ac_cv_file__dev_ptc=no ac_cv_buggy_getaddrinfo=no \
    PKG_CONFIG_LIBDIR=/usr/lib/$triplet/pkgconfig:/usr/share/pkgconfig LDFLAGS=-Wl,-rpath,$PY_PREFIX/lib \
    && $NICE make -s -j$(nproc) && make -s altinstall DESTDIR=/build/python-cross-install"
  unmount_all
  rm -rf "$BUILD_ROOT$PY_PREFIX"
  cp -a "$host_root/build/python-cross-install$PY_PREFIX" "$BUILD_ROOT$PY_PREFIX"
  rm -rf "$host_root/build/python-cross-src" "$host_root/build/python-cross-install"
  mount_root "$BUILD_ROOT"
  in_root "$BUILD_ROOT" "$PY_PREFIX/bin/python$PY_VERSION" -m ensurepip --altinstall
}

prepare_build_root() {
  debootstrap_root "$BUILD_ROOT" --include=python3,python3-venv,python3-pip,binutils,xz-utils,ca-certificates
  mount_root "$BUILD_ROOT"
  if [ ! -e "$BUILD_ROOT/.townapp-build-deps" ]; then
    say "build tools and GUI libraries in $BUILD_ROOT"
    in_root "$BUILD_ROOT" apt-get update -q
    # shellcheck disable=SC2046
    in_root "$BUILD_ROOT" $NICE apt-get install -y -q --no-install-recommends build-essential pkg-config \
      libssl-dev zlib1g-dev libbz2-dev liblzma-dev libffi-dev libsqlite3-dev uuid-dev libgdbm-dev \
      libncursesw5-dev libreadline-dev file binutils xz-utils dpkg-dev $(gui_packages)
    touch "$BUILD_ROOT/.townapp-build-deps"
  fi
  if [ ! -x "$BUILD_ROOT$PY_PREFIX/bin/python$PY_VERSION" ]; then
    if foreign_arch; then cross_python; else native_python; fi
  fi
  in_root "$BUILD_ROOT" "$PY_PREFIX/bin/python$PY_VERSION" -c \
    "import ssl, sqlite3, ctypes, lzma, bz2, zlib, uuid; print('Python', __import__('sys').version.split()[0], 'sqlite', sqlite3.sqlite_version)"
}

build_package() {
  prepare_build_root
  say "source tree (git archive HEAD) → $BUILD_ROOT/build/townapp"
  rm -rf "$BUILD_ROOT/build/townapp" && mkdir -p "$BUILD_ROOT/build/townapp"
  git -C "$REPO" archive HEAD | tar -x -C "$BUILD_ROOT/build/townapp"
  git -C "$REPO" rev-parse HEAD > "$BUILD_ROOT/build/townapp/.source-commit"
  local constraint=""
  if [ -n "$PYSIDE" ]; then
    printf 'PySide6-Essentials==%s\nPySide6-Addons==%s\n' "$PYSIDE" "$PYSIDE" > "$BUILD_ROOT/build/constraints.txt"
    constraint="-c /build/constraints.txt"
  fi
  # A host whose HTTPS goes through a proxy with its own CA (PIP_CERT / SSL_CERT_FILE): pip in the root
  # trusts the same bundle.
  local pip_env=""
  local host_ca=${PIP_CERT:-${SSL_CERT_FILE:-}}
  if [ -n "$host_ca" ] && [ -f "$host_ca" ]; then
    cp "$host_ca" "$BUILD_ROOT/build/host-ca.crt"
    pip_env="PIP_CERT=/build/host-ca.crt"
  fi
  say "venv + pip install .[build] (manylinux wheels only for the Qt binding) ${PYSIDE:+PySide6 $PYSIDE}"
  in_root "$BUILD_ROOT" sh -c "[ -x $VENV/bin/python ] || $PY_PREFIX/bin/python$PY_VERSION -m venv $VENV"
  in_root "$BUILD_ROOT" sh -c "cd /build/townapp && export $pip_env PIP_DISABLE_PIP_VERSION_CHECK=1 \
    && $NICE $VENV/bin/python -m pip install -q --upgrade pip \
    && $NICE $VENV/bin/python -m pip install -q --only-binary PySide6-Essentials,PySide6-Addons,shiboken6 \
       $constraint '.[build]' && $VENV/bin/python -m pip list 2>/dev/null | grep -i -E 'pyside6|shiboken|pyinstaller'"
  say "build_spec.py (PyInstaller) in $SUITE $ARCH"
  in_root "$BUILD_ROOT" sh -c "cd /build/townapp && $NICE $VENV/bin/python build_spec.py"
  unmount_all
  [ -z "$GLIBC_TARGET" ] || drop_newer_system_libraries
  package_deb
}

# GLIBC_TARGET: a system library PyInstaller copied from the root (directly in _internal/) that asks for a
# newer glibc is left out — the target system's own copy is used, and build_deb.py names its package in
# Depends; any other file above the target stops the build.
drop_newer_system_libraries() {
  say "leave out bundled system libraries that need more than glibc $GLIBC_TARGET"
  python3 - "$REPO/installers/linux" "$BUILD_ROOT/build/townapp/dist/townapp" "$GLIBC_TARGET" <<'PY'
import sys
from pathlib import Path

sys.path.insert(0, sys.argv[1])
import check_glibc

app, limit = Path(sys.argv[2]), check_glibc.parse_version(sys.argv[3])
above = {path: version for path, version in check_glibc.newest_per_file(app).items() if version > limit}
for path, version in sorted(above.items()):
    shown = f"{path.relative_to(app)} (GLIBC_{check_glibc.format_version(version)})"
    if path.parent == app / "_internal" and path.name.startswith("lib") and not path.name.startswith("libpython"):
        print(f"  left out: {shown}")
        path.unlink()
    else:
        sys.exit(f"{shown} needs more than glibc {sys.argv[3]}")
PY
}

# The .deb from the frozen folder already in the root (STEPS=deb redoes only this, with the checkout's
# installers/linux/ at HEAD). --confirm-unknown: a system library that neither the root nor the table in
# townapp/core/syslibs.py knows (arm64's Qt links libSM, libICE, libtiff, libwebp) still reaches Depends.
package_deb() {
  mount_root "$BUILD_ROOT"
  git -C "$REPO" archive HEAD installers/linux | tar -x -C "$BUILD_ROOT/build/townapp"
  say "build_deb.py --compression $COMPRESSION --confirm-unknown"
  in_root "$BUILD_ROOT" sh -c "cd /build/townapp && rm -rf /build/out && $NICE $VENV/bin/python \
    installers/linux/build_deb.py --out /build/out --compression $COMPRESSION --confirm-unknown"
  mkdir -p "$OUT"
  rm -f "$OUT"/townapp_*.deb
  cp "$BUILD_ROOT"/build/out/townapp_*_"$ARCH".deb "$OUT"/
  cp "$BUILD_ROOT/build/townapp/.source-commit" "$OUT/source-commit.txt"
  in_root "$BUILD_ROOT" $VENV/bin/python -m pip freeze > "$OUT/pip-freeze.txt"
  unmount_all
  [ "$COMPRESSION" = xz ] || ! foreign_arch || repack_xz
  ls -l "$OUT"/townapp_*.deb
}

repack_xz() {  # the host's dpkg-deb recompresses a gzip package with xz (any architecture's package)
  local deb stage
  deb=$(ls "$OUT"/townapp_*_"$ARCH".deb | head -n 1)
  ar t "$deb" | grep -q '^data\.tar\.gz$' || return 0  # already xz
  say "recompress $(basename "$deb") with xz on the host"
  stage=$(mktemp -d)
  dpkg-deb -R "$deb" "$stage/pkg"
  $NICE dpkg-deb --root-owner-group -Zxz --build "$stage/pkg" "$deb.xz" >/dev/null
  mv "$deb.xz" "$deb"
  rm -rf "$stage"
  ls -l "$deb"
}

test_package() {
  local deb
  deb=$(ls "$OUT"/townapp_*_"$ARCH".deb | head -n 1)
  debootstrap_root "$CLEAN_ROOT"
  say "clean root: $CLEAN_ROOT → $TEST_ROOT; dpkg -i $(basename "$deb")"
  fresh_root "$CLEAN_ROOT" "$TEST_ROOT"
  mount_root "$TEST_ROOT"
  cp "$deb" "$TEST_ROOT/tmp/"
  in_root "$TEST_ROOT" apt-get update -q
  # dpkg -i alone stops at the missing libraries (a clean root has no X or Qt libraries); apt-get -f then
  # installs exactly what Depends names, from the mirror, and finishes the configuration.
  in_root "$TEST_ROOT" dpkg -i "/tmp/$(basename "$deb")" || in_root "$TEST_ROOT" apt-get install -y -q -f
  in_root "$TEST_ROOT" dpkg -s townapp | grep -E '^(Status|Version|Architecture|Depends):'
  # Every library of the installed program resolves (LD_LIBRARY_PATH as PyInstaller's bootloader sets it),
  # except libwayland-*: the Wayland plugins' libraries are only Recommends.
  say "ldd over every library in /opt/townapp (offscreen self-test never loads the X11 plugin)"
  local unresolved
  unresolved=$(in_root "$TEST_ROOT" sh -c 'find /opt/townapp -type f -name "*.so*" | while read -r f; do
      LD_LIBRARY_PATH=/opt/townapp/_internal ldd "$f" 2>/dev/null | grep "not found" | sed "s|^|$f: |"; done' \
    | grep -v 'libwayland-' | sort -u || true)
  if [ -n "$unresolved" ]; then
    echo "$unresolved"
    echo "安装后仍有库找不到：Depends 不完整" >&2
    exit 1
  fi
  echo "all libraries resolve (Wayland's aside)"
  say "selftest --json (offscreen, env -i) in the clean $SUITE $ARCH root"
  mkdir -p "$TEST_ROOT/tmp/selftest-home"
  chroot "$TEST_ROOT" /usr/bin/env -i PATH=/usr/bin:/bin HOME=/tmp/selftest-home QT_QPA_PLATFORM=offscreen \
    /usr/bin/townapp selftest --json > "$OUT/selftest.json" || true
  unmount_all
  python3 - "$OUT/selftest.json" <<'PY'
import json, sys
report = json.load(open(sys.argv[1], encoding="utf-8"))
for check in report["checks"]:
    print(f"  {'ok ' if check['ok'] else 'NOT'} {check['name']}: {check['message']} ({check['seconds']:.1f} s)")
print("missing_system_libraries:", report.get("missing_system_libraries"))
assert report["ok"] and report["frozen"] and report["executable"].startswith("/opt/townapp/"), "selftest not ok"
# ok with a warning is not enough here: the installed package must have brought every library the window needs
assert not report.get("missing_system_libraries"), "Depends is missing libraries the X11 window needs"
print(f"installed townapp {report['version']}: selftest ok")
PY
}

ensure_binfmt
for step in $STEPS; do
  case "$step" in
    build) build_package ;;
    deb) package_deb ;;
    test) test_package ;;
    repack) repack_xz ;;
    *) echo "未知步骤：$step" >&2; exit 2 ;;
  esac
done
say "check_glibc.py over the package"
python3 "$REPO/installers/linux/check_glibc.py" --max "$MAX_GLIBC" "$(ls "$OUT"/townapp_*_"$ARCH".deb | head -n 1)" \
  | tee "$OUT/check_glibc.txt"

"""Measure the frozen build: folder size, .deb size, launch → main window and → first page's data (offscreen).

    python installers/measure.py [--app dist/townapp/townapp] [--deb dist/townapp_X_amd64.deb] [--runs 5] [--demo]

The start-up times are taken from just before the process is started until the
program prints that its main window is shown, and until it prints that the
first page shows its data (``TOWNAPP_QUIT_AFTER_SHOWN``, see
townapp/ui/startup_timing.py), on a freshly initialised township database and,
with ``--demo``, on the demo township (about 8,000 households); both are opened
with ``--demo --db FILE`` so no login dialog waits for a user. Everything runs
in a temporary data folder; nothing of the user's is touched.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHOWN_MARKER = "townapp-main-window-shown"
READY_MARKER = "townapp-main-window-ready"
TIMEOUT_S = 120


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def run(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, encoding="utf-8", env=env, timeout=900)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} 失败：{result.stderr.strip()}")


def time_to_main_window(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Seconds from launch to the window shown, and to the first page's data shown."""
    started = time.time()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               encoding="utf-8", env={**env, "TOWNAPP_QUIT_AFTER_SHOWN": "1"})
    try:
        out, err = process.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        raise SystemExit(f"{TIMEOUT_S} 秒内主窗口没有出现（是否弹出了对话框？）") from None
    marks = {parts[0]: float(parts[1]) - started for parts in (line.split() for line in out.splitlines())
             if len(parts) > 1 and parts[0] in (SHOWN_MARKER, READY_MARKER)}
    if SHOWN_MARKER not in marks:
        raise SystemExit(f"程序没有报告主窗口已显示：{err.strip()[-500:]}")
    if READY_MARKER not in marks:
        raise SystemExit(f"程序没有报告首页数据已显示：{err.strip()[-500:]}")
    return marks[SHOWN_MARKER], marks[READY_MARKER]


def measure_startup(app: list[str], runs: int, demo: bool) -> dict[str, object]:
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="townapp-measure-") as tmp:
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "TOWNAPP_DATA_DIR": tmp, "PYTHONIOENCODING": "utf-8"}
        databases = {"empty_township": Path(tmp) / "empty.db"}
        run([*app, "init", "--db", str(databases["empty_township"]), "--township", "临晋镇", "--code", "140821100"],
            env)
        if demo:
            databases["demo_township"] = Path(tmp) / "demo.db"
            started = time.perf_counter()
            run([*app, "demo", "--db", str(databases["demo_township"]), "--scale", "township"], env)
            results["demo_generation_s"] = round(time.perf_counter() - started, 1)
        for name, db in databases.items():
            # --demo with --db: that database, opened as the demo administrator (no login dialog to wait for).
            timings = [time_to_main_window([*app, "--demo", "--db", str(db)], env) for _ in range(runs)]
            shown, ready = [t[0] for t in timings], [t[1] for t in timings]
            results[name] = {"first_s": round(shown[0], 2), "median_s": round(statistics.median(shown), 2),
                             "runs": [round(t, 2) for t in shown],
                             "ready_first_s": round(ready[0], 2), "ready_median_s": round(statistics.median(ready), 2),
                             "ready_runs": [round(t, 2) for t in ready]}
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="测量冻结版大小与启动时间")
    parser.add_argument("--app", default=str(ROOT / "dist" / "townapp" / "townapp"),
                        help="要测的程序（默认冻结版 dist/townapp/townapp；源码版可写 'python -m townapp'）")
    parser.add_argument("--deb", type=Path, help=".deb 文件（默认 dist/ 下最新的一个）")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--demo", action="store_true", help="也在演示乡镇数据库上测启动时间")
    args = parser.parse_args(argv)

    app = args.app.split() if " " in args.app else [args.app]
    report: dict[str, object] = {}
    app_dir = Path(app[0]).parent
    if (app_dir / "_internal").is_dir():
        report["frozen_folder_bytes"] = folder_size(app_dir)
    debs = [args.deb] if args.deb else sorted((ROOT / "dist").glob("townapp_*.deb"), key=lambda p: p.stat().st_mtime)
    if debs:
        report["deb"] = {"file": debs[-1].name, "bytes": debs[-1].stat().st_size}
    report["startup"] = measure_startup(app, args.runs, args.demo)
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

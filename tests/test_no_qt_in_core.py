"""Only ``townapp.ui`` may import PySide6 (DESIGN §3).

Story: the CLI, the county's scripts and the tests run the services on machines
without a display; importing any non-ui module must not drag Qt in.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# pkgutil.walk_packages imports every package it descends into (to read its
# __path__), so it would import townapp.ui itself; walk with iter_modules instead
# and never descend into townapp.ui.
PROBE = r"""
import importlib, json, pkgutil, sys
import townapp

def walk(package):
    for info in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
        if info.name == "townapp.ui" or info.name.startswith("townapp.ui."):
            continue
        module = importlib.import_module(info.name)
        yield info.name
        if info.ispkg:
            yield from walk(module)

names = list(walk(townapp))
qt = sorted(name for name in sys.modules if name == "PySide6" or name.startswith("PySide6."))
print(json.dumps({"imported": names, "qt": qt}))
"""


def test_no_module_outside_ui_imports_pyside6() -> None:
    # GIVEN a fresh interpreter WHEN every townapp module except townapp.ui is imported
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env=env)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    # THEN the walk really covered the layers …
    imported = set(report["imported"])
    for expected in ("townapp.core.idcard", "townapp.db.engine", "townapp.db.audit", "townapp.registry.service",
                     "townapp.schema", "townapp.cli"):
        assert expected in imported
    assert not any(name.startswith("townapp.ui") for name in imported)
    # … AND PySide6 is not among the loaded modules
    assert report["qt"] == [], f"PySide6 imported outside townapp.ui: {report['qt']}"

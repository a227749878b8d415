"""``townapp bench --scale township``: every figure measured, every ratio a positive number.

Not a timing assertion — the targets are read from the JSON by whoever runs the
benchmark on a quiet machine (README, 性能); this proves the benchmark runs end
to end and reports what issue 11 asks for.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from townapp.bench import EXTRA_FIGURES, FIGURES, POSTGRES_FIGURE
from townapp.cli import main


@pytest.mark.slow
def test_township_bench_reports_every_figure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN no bench database yet WHEN the benchmark runs at township scale
    out = tmp_path / "bench.json"
    code = main(["bench", "--scale", "township", "--json", str(out)])
    # THEN it printed a table and wrote the JSON with every figure
    printed = capsys.readouterr().out
    assert "import_dry_run" in printed and "startup" in printed
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["scale"] == "township" and result["machine"]
    names = [f["name"] for f in result["figures"]]
    # the figures, in its order, then ours; with a server at hand also the package import on PostgreSQL
    server = [POSTGRES_FIGURE] if os.environ.get("TOWNAPP_TEST_PG_URL") else []
    assert names == list(FIGURES) + list(EXTRA_FIGURES) + server
    for figure in result["figures"]:
        assert figure["ours_s"] > 0
        assert figure["peak_rss_mb"] > 0
        if figure["floor_s"] is not None:
            assert figure["floor_s"] > 0 and figure["ratio"] > 0
        assert isinstance(figure["ok"], bool)
    floors = {f["name"] for f in result["figures"] if f["floor_s"] is not None}
    assert {"import_dry_run", "import", "import_backup", "export_package", "certificates_1000", "startup"} <= floors
    # AND the imports also report the ratio to the first bench's stricter floor (cells into an unindexed table)
    by_name = {f["name"]: f for f in result["figures"]}
    for name in ("import_dry_run", "import"):
        assert by_name[name]["details"]["floor_unindexed_s"] > 0 and by_name[name]["details"]["ratio_unindexed"] > 0
    # AND the exit code says whether every target held (0) or not (1)
    assert code == (0 if all(f["ok"] for f in result["figures"]) else 1)

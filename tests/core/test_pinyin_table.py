"""Pinyin initials come from pypinyin's single-character table, read directly: the same letters
as ``lazy_pinyin`` for every character, without loading pypinyin's phrase dictionary."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from townapp.core import pinyin

ROOT = Path(__file__).resolve().parents[2]


def test_the_table_gives_lazy_pinyins_first_letter_for_every_character() -> None:
    # GIVEN pypinyin's single-character table and pypinyin itself
    path = pinyin._table_path()
    assert path is not None and path.name == "pinyin_dict.json"
    table = json.loads(path.read_text(encoding="utf-8"))
    from_table = pinyin._first_letter_from_table(table)
    from_pypinyin = pinyin._first_letter_from_pypinyin()
    # WHEN both name the first letter of every character in the table, and of characters outside it
    outside = "·・—…（）《》①ＡＢ１２　\u00e9\u3000\U0001f600"
    characters = [chr(int(code)) for code in table] + list(outside)
    differing = [(ch, from_table(ch), from_pypinyin(ch)) for ch in characters if from_table(ch) != from_pypinyin(ch)]
    # THEN they never differ
    assert len(characters) > 40_000
    assert differing == []
    assert [from_table(ch) for ch in "张三阿嗯呣〇"] == ["z", "s", "a", "n", "m", "l"]


PROBE = r"""
import json, sys
from townapp.core.pinyin import initials
print(json.dumps({"initials": initials("张三丰·A1"),
                  "loaded": sorted(m for m in sys.modules if m == "pypinyin" or m.startswith("pypinyin."))}))
"""


def test_initials_do_not_import_pypinyin_or_its_phrases() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, timeout=120,
                            cwd=ROOT)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report == {"initials": "zsfa1", "loaded": []}

"""resources/points/default_rules.json is read by the one loader (core/resources.py), like every resource.

Story: someone edits the shipped rules in a Chinese Windows editor that saves GBK; the program must say
which file is wrong and what to do, not crash with "发生意外错误".
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from townapp import config
from townapp.core.resources import canonical_json, strip_notes
from townapp.points.rules import RuleSetError, default_rule_set, default_rule_text


@pytest.fixture
def fresh_text() -> Iterator[None]:
    """The file's text is cached for the process: read it anew here and leave no test's copy behind."""
    default_rule_text.cache_clear()
    yield
    default_rule_text.cache_clear()


def test_a_gbk_default_rules_file_is_refused_in_chinese_naming_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  fresh_text: None) -> None:
    """GIVEN resources whose points/default_rules.json was saved as GBK
    WHEN the default rule set is read
    THEN a Chinese RuleSetError names resources/points/default_rules.json and says to save it as UTF-8
    (not a UnicodeDecodeError)."""
    shipped = config.resource("points", "default_rules.json")
    (tmp_path / "points").mkdir()
    (tmp_path / "points" / "default_rules.json").write_bytes(shipped.read_text(encoding="utf-8").encode("gbk"))
    monkeypatch.setenv(config.RESOURCES_ENV, str(tmp_path))

    with pytest.raises(RuleSetError) as caught:
        default_rule_set()

    assert "resources/points/default_rules.json" in caught.value.message
    assert "UTF-8" in caught.value.message


def test_the_shipped_rules_hash_as_before(fresh_text: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN the shipped default rules, and a copy saved with a UTF-8 BOM
    WHEN each is read through the loader
    THEN the stored definition is the file's data as it was always hashed (notes dropped, decimals as text),
    so the rule sets already stored keep their digest, and the BOM changes nothing."""
    shipped = config.resource("points", "default_rules.json")
    data = json.loads(shipped.read_text(encoding="utf-8"), parse_float=Decimal)
    rules = default_rule_set()
    assert rules.canonical == canonical_json(strip_notes(data), decimals_as_text=True)

    shutil.copytree(config.resources_dir() / "points", tmp_path / "points")
    (tmp_path / "points" / "default_rules.json").write_bytes(b"\xef\xbb\xbf" + shipped.read_bytes())
    monkeypatch.setenv(config.RESOURCES_ENV, str(tmp_path))
    default_rule_text.cache_clear()
    assert default_rule_set().digest == rules.digest

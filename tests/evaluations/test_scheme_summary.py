"""Story: a clerk opens 评定方案 and reads each scheme in Chinese, not the JSON the engine stores."""

from __future__ import annotations

import re

from townapp.evaluations.scheme_summary import describe_scheme
from townapp.evaluations.schemes import shipped_schemes


def test_every_shipped_scheme_reads_in_chinese_with_its_indicators_levels_and_steps() -> None:
    for scheme in shipped_schemes():
        # WHEN a shipped scheme is described (figures by a made-up Chinese name)
        text = describe_scheme(scheme, lambda key: "某项数字")
        # THEN its indicators, negatives, levels and steps are all named, and no English word is
        for indicator in scheme.indicators:
            assert indicator.name in text
        for negative in scheme.negatives:
            assert negative.name in text
        for level in scheme.levels:
            assert level.name in text
        for stage in scheme.stages:
            assert stage.name in text
        assert not re.findall(r"[A-Za-z]{4,}", text), scheme.key

"""承诺事项 and 会议主题 are held to their columns by the archive rules, in the import's words
(issue 17: ArchiveService stored a 201-character commitment that the import refuses)."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.archives.conftest import Village
from tests.text_limits import import_message
from townapp.archives.dto import CommitmentData, MeetingData
from townapp.archives.service import ArchiveService
from townapp.core.errors import ValidationFailed


def test_a_201_character_commitment_is_refused_as_the_import_refuses_it(archives: ArchiveService,
                                                                         village: Village) -> None:
    """GIVEN the 承诺事项 form WHEN a year's commitments are saved with one of 201 characters
    THEN the service refuses the row with the 承诺事项 sheet's message, and nothing is stored."""
    title = "修" * 201
    with pytest.raises(ValidationFailed) as caught:
        archives.save_commitments(village.id, 2026, [CommitmentData(2026, title, owner="村委")])
    assert caught.value.problems[0].message == f"第1行：{import_message('archive_commitment', 'title', title)}"
    assert archives.commitments(village.id, 2026) == []
    # and 200 characters, the most the import takes, are kept
    archives.save_commitments(village.id, 2026, [CommitmentData(2026, "修" * 200)])
    assert [len(c.title) for c in archives.commitments(village.id, 2026)] == [200]


def test_a_meeting_topic_and_host_over_their_columns_are_refused(archives: ArchiveService, village: Village) -> None:
    """GIVEN the 会议记录 form WHEN a meeting is saved with a 201-character topic and a 65-character host
    THEN both are refused at their fields with the 会议记录 sheet's messages, and no meeting is stored."""
    topic, host = "题" * 201, "主" * 65
    with pytest.raises(ValidationFailed) as caught:
        archives.save_meeting(village.id, MeetingData(dt.date(2026, 3, 5), "党课", topic, host))
    found = {p.field: p.message for p in caught.value.problems}
    assert found == {"topic": import_message("archive_meeting", "topic", topic),
                     "host": import_message("archive_meeting", "host", host)}
    assert archives.meetings(village.id, 2026) == []

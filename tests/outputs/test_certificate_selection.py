"""Printing just what's needed: by village, by name, by the ticks in a list; 补打 one certificate with a reason.

Stories: the 文明办 prints one household's certificate out of last year's
星级文明户 round, then prints it again because it was torn; the registry holds
exactly those two prints for it, the second with its reason, and no other
certificate was numbered, logged or audited. A village's certificates are
printed alone; a 村录入员 prints only their village's; a reason is only for one
certificate already on paper.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from townapp.core.actor import ROLE_READONLY, ROLE_VILLAGE, SYSTEM_ACTOR, Actor
from townapp.core.errors import DomainError, PermissionDenied
from townapp.db import Database
from townapp.db.audit import AuditEntry
from townapp.figures import certificate_batch
from townapp.outputs.certificates import CertificateBatch, CertificateService, Selection, choose, villages_of
from townapp.outputs.models import Certificate, CertificatePrint
from townapp.sources import RoundSource

from .town import Town, build_town

ISSUED = dt.date(2026, 11, 20)


@pytest.fixture
def town(db: Database) -> Town:
    return build_town(db)


def _batch(db: Database, town: Town, actor: Actor = SYSTEM_ACTOR) -> CertificateBatch:
    return certificate_batch(db, "household-star", RoundSource(town.household_round), actor=actor)


def _key_of(batch: CertificateBatch, name: str) -> str:
    return next(i.subject_key for i in batch.items if i.recipient == name)


def _print_log(db: Database) -> list[tuple[str, bool, str | None]]:
    with db.reader() as s:
        return [(number, reprint, reason) for number, reprint, reason in s.execute(
            select(Certificate.number, CertificatePrint.reprint, CertificatePrint.reason)
            .join(Certificate, Certificate.id == CertificatePrint.certificate_id).order_by(CertificatePrint.id))]


def test_one_household_printed_then_reprinted_with_a_reason(db: Database, town: Town, tmp_path: Path) -> None:
    """GIVEN last year's 星级文明户 round (李秀英, 马福 in 甲村, 孙强 in 乙村), nothing printed yet
    WHEN the clerk finds 马福 by name and prints only that certificate, then 补打 it because it was torn
    THEN each PDF has one page; the registry holds exactly two entries for 马福's certificate (首次, then
    补打 with the reason), no other certificate got a number, a print or an audit entry."""
    service = CertificateService(db)
    batch = _batch(db, town)
    found = choose(batch, Selection(name="马"))
    assert [i.recipient for i in found.items] == ["马福"]
    key = found.items[0].subject_key
    with db.reader() as s:
        audits_before = s.scalar(select(func.count()).select_from(AuditEntry))

    first = service.write_batch(batch, tmp_path / "马福.pdf", selection=Selection(subject_keys=frozenset({key})),
                                today=ISSUED)
    again = service.reprint(batch, key, "证书破损", tmp_path / "马福补打.pdf", overlay=True,
                            today=dt.date(2027, 1, 5))

    assert len(PdfReader(str(first.path)).pages) == len(PdfReader(str(again.path)).pages) == 1
    assert "马福" in PdfReader(str(again.path)).pages[0].extract_text()
    number = first.certificates[0].number
    assert [c.number for c in again.certificates] == [number] and (first.new_numbers, again.reprints) == (1, 1)
    assert _print_log(db) == [(number, False, None), (number, True, "证书破损")]
    with db.reader() as s:
        assert s.scalars(select(Certificate.recipient)).all() == ["马福"]
        assert s.scalar(select(Certificate.print_count)) == 2
        entries = s.execute(select(AuditEntry.entity, AuditEntry.reason).where(AuditEntry.id > audits_before)).all()
    assert entries and {entity for entity, _reason in entries} == {"certificate"}
    assert "补打：证书破损" in {reason for _entity, reason in entries}
    # AND the page's list shows 马福's number and two prints, the others not yet numbered
    listed = {r.recipient: (r.number, r.print_count) for r in service.recipients(batch)}
    assert listed == {"李秀英": ("", 0), "马福": (number, 2), "孙强": ("", 0)}
    # AND the next torn one is found in the list by the number printed on it
    assert [r.recipient for r in service.recipients(batch) if Selection(name=number.lower()).matches(r)] == [
        "马福"]
    # AND the print log as the page shows it gives the reason
    assert [(p.number, p.reprint, p.reason) for p in service.prints("household-star")] == [
        (number, True, "证书破损"), (number, False, "")]


def test_a_village_is_printed_alone(db: Database, town: Town, tmp_path: Path) -> None:
    """GIVEN the round's recipients in 甲村 and 乙村
    WHEN the certificates of 乙村 are saved as a PDF
    THEN the PDF and the registry hold 孙强's certificate only; 甲村's are untouched."""
    service = CertificateService(db)
    batch = _batch(db, town)
    assert villages_of(service.recipients(batch)) == ["甲村", "乙村"]

    result = service.write_batch(batch, tmp_path / "乙村.pdf", selection=Selection(village="乙村"))

    assert [c.recipient for c in result.certificates] == ["孙强"]
    assert len(PdfReader(str(result.path)).pages) == 1
    assert [n for n, _r, _why in _print_log(db)] == [result.certificates[0].number]


def test_ticks_village_and_name_narrow_each_other(db: Database, town: Town) -> None:
    batch = _batch(db, town)
    ticked = frozenset({_key_of(batch, "李秀英"), _key_of(batch, "孙强")})
    assert [i.recipient for i in choose(batch, Selection(subject_keys=ticked)).items] == ["李秀英", "孙强"]
    assert [i.recipient for i in choose(batch, Selection(village="甲村", subject_keys=ticked)).items] == ["李秀英"]
    assert [i.recipient for i in choose(batch, Selection(village="甲村", name=" 福 ")).items] == ["马福"]
    assert choose(batch, Selection(subject_keys=frozenset())).items == ()


def test_nothing_chosen_writes_nothing(db: Database, town: Town, tmp_path: Path) -> None:
    with pytest.raises(DomainError, match="没有选中要打印的证书"):
        CertificateService(db).write_batch(_batch(db, town), tmp_path / "x.pdf", selection=Selection(name="王"))
    assert not (tmp_path / "x.pdf").exists()
    with db.reader() as s:
        assert s.scalar(select(func.count()).select_from(Certificate)) == 0


def test_a_reason_is_for_one_certificate_already_printed(db: Database, town: Town, tmp_path: Path) -> None:
    """A 补打 needs its reason, one certificate, and a first print before it; refused, nothing is logged."""
    service = CertificateService(db)
    batch = _batch(db, town)
    key = _key_of(batch, "李秀英")
    with pytest.raises(DomainError, match="必须填写原因"):
        service.reprint(batch, key, "  ", tmp_path / "a.pdf")
    with pytest.raises(DomainError, match="还没有打印过"):
        service.reprint(batch, key, "证书遗失", tmp_path / "a.pdf")
    service.write_batch(batch, tmp_path / "all.pdf")
    with pytest.raises(DomainError, match="一次只能补打一张"):
        service.write_batch(batch, tmp_path / "b.pdf", reason="证书遗失")
    ids = [c.id for c in service.write_batch(batch, tmp_path / "p.pdf", record=False).certificates]
    with pytest.raises(DomainError, match="一次只能补打一张"):
        service.record_printed(ids, overlay=False, channel="打印机 办公室", reason="证书遗失")
    assert len(_print_log(db)) == 3 and not (tmp_path / "a.pdf").exists() and not (tmp_path / "b.pdf").exists()
    # AND a 补打 sent to a printer after its preview is logged with its reason
    one = service.reprint(batch, key, "证书遗失", tmp_path / "one.pdf", record=False)
    assert service.record_printed([c.id for c in one.certificates], overlay=False, channel="打印机 办公室",
                                  reason="证书遗失") == 1
    assert _print_log(db)[-1][1:] == (True, "证书遗失")


def test_a_village_clerk_prints_only_their_village(db: Database, town: Town, tmp_path: Path) -> None:
    """GIVEN 甲村's clerk, and 只读
    THEN the clerk lists and prints 甲村's certificates, and is refused 乙村's (even handed a township batch);
    只读 prints nothing."""
    clerk = Actor("甲村文书", ROLE_VILLAGE, town.village_a)
    service = CertificateService(db, clerk)
    mine = _batch(db, town, clerk)
    assert {r.village for r in service.recipients(_batch(db, town))} == {"甲村"}

    result = service.write_batch(mine, tmp_path / "甲村.pdf")
    assert sorted(c.recipient for c in result.certificates) == ["李秀英", "马福"]
    with pytest.raises(PermissionDenied, match="只能打印本村"):
        service.write_batch(_batch(db, town), tmp_path / "乙村.pdf", selection=Selection(village="乙村"))
    with pytest.raises(PermissionDenied, match="只读"):
        CertificateService(db, Actor("查看", ROLE_READONLY)).write_batch(mine, tmp_path / "r.pdf")
    assert len(_print_log(db)) == 2 and not (tmp_path / "乙村.pdf").exists()

"""报表 and 证书 reads are village-scoped in the services (issue 16).

Every public read of ReturnService (the quarterly return and the 首页 overview) and of
CertificateService (the print log, the numbers) is tried by every role on a clerk's own village
and on another one (tests/accounts/scope_matrix.py): a 村录入员's return and 首页 cover only their
village, and they see only certificates issued to it (before: every village's figures and recipients).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from tests.accounts.scope_matrix import Read, sweep, unlisted, village_name, villages
from townapp.core.actor import ROLE_VILLAGE, Actor
from townapp.db import Database
from townapp.figures import figure_registry, unit_source
from townapp.outputs.certificates import CertificateBatch, CertificateItem, CertificateService
from townapp.outputs.figures import Period
from townapp.outputs.models import Certificate
from townapp.outputs.quarterly import ReturnService
from townapp.registry import models as m

PERIOD = Period(2026, 1)
KIND = "household-star"


def _batch(db: Database) -> CertificateBatch:
    """One 星级文明户 recipient for each village, as a township-wide source hands them in."""
    with db.reader() as s:
        names = list(s.scalars(select(m.Village.name).order_by(m.Village.code)))
    items = tuple(CertificateItem(f"test:{n}", f"{name}测试户", name, "四星") for n, name in enumerate(names))
    return CertificateBatch(KIND, "test", "测试批次", 2026, "临晋镇", items)


def _issue(db: Database, folder: Path) -> None:
    """One 星级文明户 certificate for each village, printed by the township (once per database)."""
    with db.reader() as s:
        if s.scalar(select(Certificate.id).limit(1)):
            return
    CertificateService(db).write_batch(_batch(db), folder / "证书.pdf")


def _rows(ret, name: str) -> list:  # noqa: ANN001
    return [r for t in ret.tables for r in t.body if r.label == name]


RETURN_READS: dict[str, Read] = {
    "build": lambda s, v, _p: _rows(s.build(PERIOD), village_name(s.db, v)),
    "overview": lambda s, v, _p: [n for n in s.overview(PERIOD).names if n == village_name(s.db, v)],
}
CERTIFICATE_READS: dict[str, Read] = {
    "prints": lambda s, v, p: (_issue(s.db, p), [r for r in s.prints(KIND) if r.village == village_name(s.db, v)])[1],
    "numbers": lambda s, v, p: (_issue(s.db, p), [n for n in s.numbers(KIND)
                                                  if n[1] == f"{village_name(s.db, v)}测试户"])[1],
    "recipients": lambda s, v, _p: [r for r in s.recipients(_batch(s.db)) if r.village == village_name(s.db, v)],
}
LISTINGS = {"build", "overview", "prints", "numbers", "recipients"}
# the export log holds file names and users, no village's data
NOT_READS = {"history"}


def test_every_public_read_is_in_the_matrix() -> None:
    assert unlisted(ReturnService, RETURN_READS, {"export"}, NOT_READS) == set()
    writes = {"write_batch", "record_printed", "reprint"}
    assert unlisted(CertificateService, CERTIFICATE_READS, writes, set()) == set()


def test_return_and_certificate_reads_are_scoped_to_the_clerks_village(open_demo: Callable[..., Database],
                                                                        tmp_path: Path) -> None:
    """GIVEN the small demo township and one printed certificate per village
    WHEN each role builds the quarterly return and the 首页 overview and reads the certificate log and numbers
    THEN township roles and 只读 see every village; a clerk's return, overview and logs hold only their own."""
    db = open_demo("small", 5)
    own, other = villages(db)
    registry, units = figure_registry(db), unit_source()
    leaks, problems = sweep(lambda a: ReturnService(db, registry, units, a), RETURN_READS, LISTINGS, own, other,
                            tmp_path)
    more, trouble = sweep(lambda a: CertificateService(db, a), CERTIFICATE_READS, LISTINGS, own, other, tmp_path)
    assert leaks + more == [], "\n".join(leaks + more)
    assert problems + trouble == [], "\n".join(problems + trouble)


def test_a_clerks_overview_counts_only_their_village(open_demo: Callable[..., Database]) -> None:
    """GIVEN the small demo township WHEN a clerk opens the 首页 overview
    THEN its rows are their village alone and its household count is their village's, not the township's."""
    db = open_demo("small", 5)
    own, _other = villages(db)
    registry, units = figure_registry(db), unit_source()
    clerk = ReturnService(db, registry, units, Actor("文书", ROLE_VILLAGE, own)).overview(PERIOD)
    township = ReturnService(db, registry, units).overview(PERIOD)
    assert clerk.names == (village_name(db, own),) and len(township.names) > 1
    households = next(k.value for k in clerk.key_figures if k.label == "户数")
    with db.reader() as s:
        own_households = len(s.scalars(select(m.Household.id).where(m.Household.village_id == own)).all())
    assert households.replace(",", "") == str(own_households)

"""The cyclic collector pauses during bulk work and comes back exactly as it was.

Stories: a county's points totals and quarterly return pause it (it cost a
third of their time); loads on two threads overlap and the collector resumes
only when the last ends; a caller that had switched it off keeps it off.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from townapp.core.collector import collector_paused


@pytest.fixture(autouse=True)
def collector_enabled() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if was:
        gc.enable()
    else:
        gc.disable()


def test_paused_inside_and_enabled_again_after() -> None:
    # GIVEN the collector running WHEN bulk work runs inside the pause
    with collector_paused():
        # THEN no automatic collection happens inside
        assert not gc.isenabled()
    # AND it runs again afterwards
    assert gc.isenabled()


def test_nested_pauses_resume_only_when_the_outermost_ends() -> None:
    # GIVEN a pause inside a pause (a return's totals inside the return)
    with collector_paused():
        with collector_paused():
            assert not gc.isenabled()
        # WHEN the inner one ends THEN the outer work is still paused
        assert not gc.isenabled()
    assert gc.isenabled()


def test_overlapping_pauses_on_two_threads() -> None:
    # GIVEN a load on a worker thread that holds the pause until told to finish
    entered, finish = threading.Event(), threading.Event()

    def load() -> None:
        with collector_paused():
            entered.set()
            finish.wait(10)

    worker = threading.Thread(target=load)
    worker.start()
    assert entered.wait(10)
    # WHEN a second load on this thread ends first
    with collector_paused():
        pass
    # THEN the collector stays paused for the worker's load
    assert not gc.isenabled()
    finish.set()
    worker.join(10)
    # AND resumes once the worker's load ends too
    assert gc.isenabled()


def test_an_error_inside_still_resumes_the_collector() -> None:
    # GIVEN bulk work that fails WHEN the error leaves the pause
    with pytest.raises(ValueError), collector_paused():
        raise ValueError("失败")
    # THEN the collector runs again
    assert gc.isenabled()


def test_a_collector_switched_off_by_the_caller_stays_off() -> None:
    # GIVEN a program that runs with the collector off
    gc.disable()
    with collector_paused():
        pass
    # THEN the pause does not switch it on
    assert not gc.isenabled()

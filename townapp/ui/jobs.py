"""Long work off the GUI thread, with a progress dialog that appears only after ~0.5 s.

Core functions take ``progress(done, total, text)`` and ``cancel()``; a Job runs
one in the thread pool and reports back through Qt signals. Cancel sets a flag
the core function checks; it then raises Cancelled and rolls back.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtWidgets import QMessageBox, QProgressDialog, QWidget

from townapp import config
from townapp.core.errors import Cancelled, DomainError, FieldProblem, ValidationFailed
from townapp.db.busy import DatabaseBusy

Work = Callable[[Callable[[int, int, str], None], Callable[[], bool]], Any]
T = TypeVar("T")
log = logging.getLogger(__name__)

SHOW_AFTER_MS = 500


class _Signals(QObject):
    progressed = Signal(int, int, str)
    succeeded = Signal(object)
    failed = Signal(str)
    cancelled = Signal()


class _Runnable(QRunnable):
    def __init__(self, work: Work, signals: _Signals, stop: threading.Event) -> None:
        super().__init__()
        self._work, self._signals, self._stop = work, signals, stop

    def run(self) -> None:
        try:
            result = self._work(self._signals.progressed.emit, self._stop.is_set)
        except Cancelled:
            self._signals.cancelled.emit()
        except DomainError as exc:
            self._signals.failed.emit(exc.message)
        except Exception:  # logged in full; the user gets a Chinese sentence naming the log, no English traceback
            log.exception("后台任务发生意外错误")
            self._signals.failed.emit(f"发生意外错误，已记入日志：{config.log_path()}")
        else:
            self._signals.succeeded.emit(result)


class Job(QObject):
    """One background operation with its (delayed) progress dialog."""

    finished = Signal()  # after success, failure or cancel

    def __init__(self, parent: QWidget, title: str, work: Work,
                 on_success: Callable[[Any], None] | None = None,
                 on_failure: Callable[[str], None] | None = None) -> None:
        super().__init__(parent)
        self._stop = threading.Event()
        self._signals = _Signals()
        self._dialog = QProgressDialog(title, "取消", 0, 0, parent)
        self._dialog.setWindowTitle(title)
        self._dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self._dialog.setMinimumDuration(SHOW_AFTER_MS)
        self._dialog.setAutoClose(False)
        self._dialog.setAutoReset(False)
        self._dialog.canceled.connect(self.cancel)
        self._signals.progressed.connect(self._on_progress)
        self._signals.succeeded.connect(self._on_success)
        self._signals.failed.connect(self._on_failure)
        self._signals.cancelled.connect(self._on_cancelled)
        self._on_success_cb, self._on_failure_cb = on_success, on_failure
        self._runnable = _Runnable(work, self._signals, self._stop)
        self.result: Any = None
        self.error: str | None = None
        self.was_cancelled = False
        self.done = False

    def start(self) -> Job:
        self._dialog.setValue(0)
        QThreadPool.globalInstance().start(self._runnable)
        return self

    def cancel(self) -> None:
        self._dialog.setLabelText("正在取消……")
        self._stop.set()

    def _on_progress(self, done: int, total: int, text: str) -> None:
        self._dialog.setMaximum(max(total, 0))
        self._dialog.setValue(min(done, total) if total else 0)
        if text:
            self._dialog.setLabelText(text)

    def _finish(self) -> None:
        self.done = True
        self._dialog.reset()
        self._dialog.hide()
        self._dialog.deleteLater()
        self.finished.emit()

    def _on_success(self, result: Any) -> None:
        self.result = result
        self._finish()
        if self._on_success_cb:
            self._on_success_cb(result)

    def _on_failure(self, message: str) -> None:
        self.error = message
        self._finish()
        if self._on_failure_cb:
            self._on_failure_cb(message)

    def _on_cancelled(self) -> None:
        self.was_cancelled = True
        self._finish()


BUSY_WAIT_SECONDS = 60  # how long a save waits, visibly, for another writer (an import) before giving up


def _waiting_text(busy: DatabaseBusy) -> str:
    """Who holds the database, and that nothing needs typing again (not the final "没有保存" message)."""
    who = busy.holder or "另一个程序或窗口正在写入这个数据库"
    return f"正在等待……\n{who}\n数据库空出来后会自动保存，不必重新填写；也可以取消。"


def wait_while_busy(parent: QWidget, attempt: Callable[[], Any], busy: DatabaseBusy,
                    on_success: Callable[[Any], None], on_failure: Callable[[str], None],
                    seconds: float | None = None) -> Job:
    """Retry ``attempt`` in the background while the database is busy, with a 正在等待… dialog naming the holder.

    Each try waits in SQLite's own busy handler (the GUI's busy timeout), so the loop
    never spins; the user may cancel. After ``seconds`` the last DatabaseBusy message
    goes to ``on_failure``; a cancel reports that nothing was saved.
    """

    def work(progress: Callable[[int, int, str], None], cancel: Callable[[], bool]) -> Any:
        deadline, last = time.monotonic() + (BUSY_WAIT_SECONDS if seconds is None else seconds), busy
        while True:
            if cancel():
                raise Cancelled()
            progress(0, 0, _waiting_text(last))
            try:
                return attempt()
            except DatabaseBusy as exc:
                last = exc
                if time.monotonic() >= deadline:
                    raise

    job = Job(parent, "正在等待数据库", work, on_success=on_success, on_failure=on_failure)
    job._dialog.setMinimumDuration(0)  # the save already waited the GUI's busy timeout: show the wait at once
    job._dialog.setLabelText(_waiting_text(busy))
    job.finished.connect(lambda: job.was_cancelled and on_failure("已取消保存，数据没有改变。"))
    return job.start()


def in_steps(*steps: Callable[[], Any]) -> Callable[[], list[Any]]:
    """Several service writes as one attempt for ``call_service``; returns their results in order.

    A retry after DatabaseBusy goes on at the step that was refused, so a step already
    committed (a new record) is never written twice."""
    results: list[Any] = []

    def run() -> list[Any]:
        for step in steps[len(results):]:
            results.append(step())
        return results

    return run


def problems_of(exc: DomainError, field: str = "") -> list[FieldProblem]:
    """A DomainError as the field problems a dialog's error lines show: a ValidationFailed's own, else one."""
    return exc.problems if isinstance(exc, ValidationFailed) else [FieldProblem(field, exc.message)]


def show_error(parent: QWidget | None, exc: DomainError, title: str = "无法完成") -> None:
    """A domain error as the user sees it: its Chinese message in a message box over ``parent``."""
    QMessageBox.warning(parent, title, exc.message)


def call_service(parent: QWidget, attempt: Callable[[], T], on_success: Callable[[T], None] | None = None,
                 on_error: Callable[[DomainError], None] | None = None, *, title: str = "无法保存",
                 seconds: float | None = None) -> Job | None:
    """Run one service write for a dialog or page, so that no DomainError is ever dropped.

    Free database: ``attempt`` runs at once, then ``on_success(result)``. Another writer (an
    import) holds it: the write goes on through ``wait_while_busy`` (正在等待…, cancellable) and
    ``on_success`` follows when it is saved. Any other DomainError, also one raised while waiting
    (or the wait running out, or a cancel), goes to ``on_error`` — by default a message box; the
    dialog stays open with what was typed. ``attempt`` may run on a worker thread, so it must only
    call the service: read the widgets before. Returns the waiting Job, else None.
    """
    report = on_error or (lambda exc: show_error(parent, exc, title))
    try:
        result = attempt()
    except DatabaseBusy as busy:
        raised: list[DomainError] = []

        def keep_error() -> T:
            try:
                return attempt()
            except DatabaseBusy:
                raise
            except DomainError as exc:  # kept whole (a ValidationFailed keeps its field problems)
                raised.append(exc)
                raise

        def failed(message: str) -> None:
            report(raised[-1] if raised else DomainError(message))

        return wait_while_busy(parent, keep_error, busy, on_success or (lambda _result: None), failed, seconds)
    except DomainError as exc:
        report(exc)
        return None
    if on_success is not None:
        on_success(result)
    return None

"""The wizard's 保存标注副本 button on a file that cannot be read: it says why (it silently did nothing)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QMessageBox

from townapp.core.actor import Actor
from townapp.exchange.report import ImportReport, Issue
from townapp.sheets import all_sheet_specs
from townapp.ui.app import open_main_window
from townapp.ui.forms.import_wizard import ImportWizard


def test_annotated_copy_of_an_unreadable_file_says_why(app, db, qtbot, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    """GIVEN a dry-run report with a cell error, for a file that can no longer be read
    WHEN the clerk saves the annotated copy THEN it runs as a background job and the wizard shows why it failed."""
    main = open_main_window(db, Actor("李文书", "乡镇干部"))
    qtbot.addWidget(main)
    source = tmp_path / "坏.xls"
    source.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    wizard = ImportWizard(main.ctx, all_sheet_specs())
    qtbot.addWidget(wizard)
    wizard.set_file(source)
    wizard.report = ImportReport(file_name=source.name, dry_run=True)
    wizard.report.errors.append(Issue("人员", 2, "姓名", "required", "姓名不能为空", 1))
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *args, **kwargs: shown.append(args[2]))
    job = wizard.save_annotated(tmp_path / "标注.xlsx")
    qtbot.waitUntil(lambda: job.done, timeout=15000)
    assert shown and "无法生成标注副本" in shown[0]
    assert "无法生成标注副本" in wizard.notice.text()
    assert not (tmp_path / "标注.xlsx").exists()
    main.close()

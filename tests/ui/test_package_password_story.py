"""Story on the real window: the township exports the sync package to a USB stick with a password, then the
package is read back through the import wizard, first with a wrong password, then with the right one."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox, QPushButton

from townapp.exchange import protect
from townapp.exchange.package import package_file_name
from townapp.ui.forms.exchange import OpenPasswordDialog, PackagePasswordDialog
from townapp.ui.forms.import_wizard import ImportWizard

from .conftest import when_dialog_opens

PASSWORD = "Linjin#2026"


@pytest.fixture
def window(dongzhang_window):  # noqa: ANN001, ANN201
    return dongzhang_window


def test_the_package_goes_to_the_stick_encrypted_and_comes_back_with_the_password(
        window, tmp_path: Path, qtbot, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    page = window.open_page("数据交换")
    stick = tmp_path / "U盘"
    stick.mkdir()
    offered: list[str] = []

    def save_file(_parent, _title, _settings, name: str) -> Path:  # noqa: ANN001
        offered.append(name)
        return stick / name

    monkeypatch.setattr("townapp.ui.pages.exchange.choose_save_file", save_file)
    seen: dict[str, object] = {}

    def set_password(dialog: QDialog) -> None:
        assert isinstance(dialog, PackagePasswordDialog)
        # typed differently twice: the dialog says so and stays open
        dialog.password.setText(PASSWORD)
        dialog.again.setText(PASSWORD + "x")
        dialog.submit()
        seen["mismatch"] = dialog.error.text()
        seen["still_open"] = dialog.isVisible()
        dialog.again.setText(PASSWORD)
        dialog.submit()

    # WHEN the township clicks 导出报县同步数据包…, keeps the offered name and sets a password
    when_dialog_opens(set_password)
    qtbot.mouseClick(page.findChild(QPushButton, "export_package"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.findChild(QMessageBox, "package_done") is not None, timeout=20000)
    # THEN the offered name carries unit, quarter and day; the password dialog refused the mismatch
    assert offered == [package_file_name("临晋镇")]
    assert seen == {"mismatch": "两次输入的密码不一致", "still_open": True}
    # AND the stick holds only the encrypted package, and the box says where it is and that the stick can go
    (written,) = stick.iterdir()
    assert protect.is_encrypted(written)
    box = page.findChild(QMessageBox, "package_done")
    assert str(written) in box.text() and "可以安全地拔出U盘" in box.text() and "已用密码加密" in box.text()
    box.accept()

    # WHEN the package is checked in the import wizard, first with a wrong password, then with the right one
    def drive(wizard: QDialog) -> None:
        assert isinstance(wizard, ImportWizard)
        wizard.set_file(written)
        for password in ("wrong-password", PASSWORD):
            def type_password(dialog: QDialog, password: str = password) -> None:
                assert isinstance(dialog, OpenPasswordDialog)
                dialog.password.setText(password)
                dialog.submit()

            when_dialog_opens(type_password)
            wizard.start_dry_run()
            qtbot.waitUntil(lambda: wizard.stage == "review", timeout=20000)
            seen[password] = [(e.code, e.message) for e in wizard.report.errors]
            wizard.restart()
        wizard.reject()

    when_dialog_opens(drive)
    qtbot.mouseClick(page.findChild(QPushButton, "open_import"), Qt.MouseButton.LeftButton)
    # THEN the wrong one is named as such, and the right one opens the package (its own township: nothing new)
    (code, message), = seen["wrong-password"]
    assert code == "wrong_password" and "密码不正确" in message
    assert seen[PASSWORD] == []
    assert QApplication.activeModalWidget() is None

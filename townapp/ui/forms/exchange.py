"""The sync package's password: asked before the export, and when an encrypted file is imported."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QLineEdit, QMessageBox, QWidget

from townapp.core.errors import ValidationFailed
from townapp.exchange import protect
from townapp.exchange.package import PackageResult
from townapp.ui.login import FormDialog, password_field
from townapp.ui.widgets.done import announce_written


class PackagePasswordDialog(FormDialog):
    """Encrypt the package (the default: it holds full ID numbers) with a password typed twice, or — said
    plainly that it is not advised — leave it unencrypted. What a lost password means is told here."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("数据包加密", "数据包含全乡镇人员的完整身份证号，将用密码加密后保存（县里用 Excel 或 WPS "
                         "打开时输入密码即可）。\n" + protect.LOST_PASSWORD, "导出", parent)
        self.password = password_field("password")
        self.again = password_field("again")
        self.show_text = QCheckBox("显示密码")
        self.show_text.toggled.connect(self._show_text)
        self.plain = QCheckBox("不加密（不建议：U盘丢失时任何人都能看到身份证号）")
        self.plain.setObjectName("no_password")
        self.plain.toggled.connect(self._plain_toggled)
        self.form.addRow(f"打开密码（至少{protect.MIN_PASSWORD}位）", self.password)
        self.form.addRow("再输入一次", self.again)
        self.form.addRow("", self.show_text)
        self.form.addRow("", self.plain)
        self.resize(520, self.sizeHint().height())

    def _show_text(self, on: bool) -> None:
        mode = QLineEdit.EchoMode.Normal if on else QLineEdit.EchoMode.Password
        self.password.setEchoMode(mode)
        self.again.setEchoMode(mode)

    def _plain_toggled(self, on: bool) -> None:
        for widget in (self.password, self.again, self.show_text):
            widget.setEnabled(not on)
        self.error.show_problems([])

    def chosen_password(self) -> str | None:
        """The password to encrypt with; None for an unencrypted package."""
        return None if self.plain.isChecked() else self.password.text()

    def attempt(self) -> None:
        if not self.plain.isChecked():
            problems = protect.password_problems(self.password.text(), self.again.text())
            if problems:
                raise ValidationFailed(problems)


class OpenPasswordDialog(FormDialog):
    """The open password of an encrypted file being imported (asked again after a wrong one)."""

    def __init__(self, file_name: str, parent: QWidget | None = None) -> None:
        super().__init__("输入打开密码", f"{file_name} 已用密码加密，请输入导出时设置的打开密码：", "确定", parent)
        self.password = password_field("password")
        self.form.addRow("打开密码", self.password)


def show_package_done(parent: QWidget, result: PackageResult, title: str = "数据包已导出",
                      name: str = "package_done") -> QMessageBox:
    """The one completion box (widgets/done.py: not modal, 打开所在文件夹) in the package's own words: where it
    is, that it was read back and checked, whether it is encrypted, and that the stick may be removed."""
    box = announce_written(parent, result.path, "数据包", title=title, name=name)
    box.setText(result.done_message())
    return box

"""The sync package's password: asked before the export, and when an encrypted file is imported."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from townapp.exchange import protect


def _secret(name: str) -> QLineEdit:
    edit = QLineEdit()
    edit.setObjectName(name)
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    return edit


class PackagePasswordDialog(QDialog):
    """Encrypt the package (the default: it holds full ID numbers) with a password typed twice, or — said
    plainly that it is not advised — leave it unencrypted. What a lost password means is told here."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("数据包加密")
        intro = QLabel("数据包含全乡镇人员的完整身份证号，将用密码加密后保存（县里用 Excel 或 WPS 打开时输入密码即可）。\n"
                       + protect.LOST_PASSWORD)
        intro.setWordWrap(True)
        self.password = _secret("password")
        self.again = _secret("again")
        self.show_text = QCheckBox("显示密码")
        self.show_text.toggled.connect(self._show_text)
        self.plain = QCheckBox("不加密（不建议：U盘丢失时任何人都能看到身份证号）")
        self.plain.setObjectName("no_password")
        self.plain.toggled.connect(self._plain_toggled)
        self.problem = QLabel()
        self.problem.setObjectName("problem")
        self.problem.setStyleSheet("color:#c62828")
        self.problem.setWordWrap(True)
        form = QFormLayout()
        form.addRow(f"打开密码（至少{protect.MIN_PASSWORD}位）", self.password)
        form.addRow("再输入一次", self.again)
        form.addRow("", self.show_text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("导出")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.plain)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)
        self.resize(520, self.sizeHint().height())

    def _show_text(self, on: bool) -> None:
        mode = QLineEdit.EchoMode.Normal if on else QLineEdit.EchoMode.Password
        self.password.setEchoMode(mode)
        self.again.setEchoMode(mode)

    def _plain_toggled(self, on: bool) -> None:
        for widget in (self.password, self.again, self.show_text):
            widget.setEnabled(not on)
        self.problem.clear()

    def chosen_password(self) -> str | None:
        """The password to encrypt with; None for an unencrypted package."""
        return None if self.plain.isChecked() else self.password.text()

    def accept(self) -> None:
        if not self.plain.isChecked():
            problems = protect.password_problems(self.password.text(), self.again.text())
            if problems:
                self.problem.setText("；".join(p.message for p in problems))
                return
        super().accept()


class OpenPasswordDialog(QDialog):
    """The open password of an encrypted file being imported (asked again, with the reason, when wrong)."""

    def __init__(self, file_name: str, reason: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("输入打开密码")
        label = QLabel(reason or f"{file_name} 已用密码加密，请输入导出时设置的打开密码：")
        label.setWordWrap(True)
        self.password = _secret("password")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("确定")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(label)
        layout.addWidget(self.password)
        layout.addWidget(buttons)
        self.resize(460, self.sizeHint().height())

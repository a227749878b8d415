"""First-run administrator, login and password dialogs.

There is no default password: a database without an administrator asks for
one before anything else. The login dialog keeps asking until the password is
right, the account is locked (the message says for how long) or the user cancels.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from townapp.core.actor import Actor
from townapp.core.errors import DomainError, FieldProblem, ValidationFailed
from townapp.core.policy import security_policy
from townapp.ui.widgets.fields import ErrorLabel

if TYPE_CHECKING:
    from townapp.accounts.service import AccountService


def password_field(name: str) -> QLineEdit:
    field = QLineEdit()
    field.setObjectName(name)
    field.setEchoMode(QLineEdit.EchoMode.Password)
    return field


class FormDialog(QDialog):
    """A small form with an error line and OK/Cancel; ``submit`` decides whether to close."""

    def __init__(self, title: str, intro: str, ok_text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(380)
        self.form = QFormLayout()
        self.error = ErrorLabel()
        self.error.setObjectName("error")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(ok_text)
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        if intro:
            label = QLabel(intro)
            label.setWordWrap(True)
            layout.addWidget(label)
        layout.addLayout(self.form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

    def submit(self) -> None:
        try:
            self.attempt()
        except ValidationFailed as exc:
            self.error.show_problems(exc.problems)
            return
        except DomainError as exc:
            self.error.show_problems([FieldProblem("", exc.message)])
            return
        self.accept()

    def attempt(self) -> None:
        """Do the dialog's work; raise DomainError to stay open with the message."""


class FirstAdminDialog(FormDialog):
    """First run: the administrator chooses their own user name and password."""

    def __init__(self, accounts: AccountService, parent: QWidget | None = None) -> None:
        minimum = security_policy().min_password_length
        super().__init__("设置管理员", "这是第一次使用这个数据库，请设置管理员账号。管理员可以新建其他账号、"
                         f"查看审计日志和恢复备份。密码至少 {minimum} 位，请牢记，程序中没有默认密码。",
                         "确定", parent)
        self.accounts = accounts
        self.username = QLineEdit("管理员")
        self.username.setObjectName("username")
        self.display_name = QLineEdit()
        self.display_name.setPlaceholderText("如：张建国（可不填）")
        self.password = password_field("password")
        self.confirm = password_field("confirm")
        self.form.addRow("用户名", self.username)
        self.form.addRow("姓名", self.display_name)
        self.form.addRow("密码", self.password)
        self.form.addRow("再输一次密码", self.confirm)
        self.actor: Actor | None = None

    def attempt(self) -> None:
        self.actor = self.accounts.create_first_admin(self.username.text(), self.password.text(),
                                                      self.confirm.text(), self.display_name.text())


class LoginDialog(FormDialog):
    def __init__(self, accounts: AccountService, title: str = "", parent: QWidget | None = None) -> None:
        super().__init__("登录", f"请登录{('：' + title) if title else ''}", "登录", parent)
        self.accounts = accounts
        self.username = QLineEdit()
        self.username.setObjectName("username")
        self.password = password_field("password")
        self.form.addRow("用户名", self.username)
        self.form.addRow("密码", self.password)
        self.actor: Actor | None = None

    def attempt(self) -> None:
        try:
            self.actor = self.accounts.login(self.username.text(), self.password.text())
        finally:
            self.password.clear()


class ChangePasswordDialog(FormDialog):
    """Any user changes their own password."""

    def __init__(self, accounts: AccountService, parent: QWidget | None = None) -> None:
        super().__init__("修改我的密码", f"当前用户：{accounts.actor.username}", "修改", parent)
        self.accounts = accounts
        self.old = password_field("old")
        self.new = password_field("new")
        self.confirm = password_field("confirm")
        self.form.addRow("原密码", self.old)
        self.form.addRow("新密码", self.new)
        self.form.addRow("再输一次新密码", self.confirm)

    def attempt(self) -> None:
        self.accounts.change_own_password(self.old.text(), self.new.text(), self.confirm.text())


def ask_first_admin(accounts: AccountService, parent: QWidget | None = None) -> Actor | None:
    """The first administrator, over the main window (None if the user cancels)."""
    dialog = FirstAdminDialog(accounts, parent)
    return dialog.actor if dialog.exec() == QDialog.DialogCode.Accepted else None


def ask_login(accounts: AccountService, title: str = "", parent: QWidget | None = None) -> Actor | None:
    """Who logs in, over the main window (None if the user cancels)."""
    dialog = LoginDialog(accounts, title, parent)
    return dialog.actor if dialog.exec() == QDialog.DialogCode.Accepted else None

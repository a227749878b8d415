"""Dialogs of the accounts and audit pages: a user, a password reset, a reason for a full view."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit, QWidget

from townapp.accounts.dto import UserDTO, UserInput
from townapp.accounts.service import AccountService
from townapp.core.actor import ROLE_VILLAGE, ROLES
from townapp.core.errors import DomainError, FieldProblem, ValidationFailed
from townapp.ui.context import AppContext
from townapp.ui.jobs import call_service, problems_of
from townapp.ui.login import FormDialog, password_field
from townapp.ui.widgets.fields import select_data

ROLE_HINTS = {
    "管理员": "管理员：全部数据，另可管理账号、查看审计日志、恢复备份",
    "乡镇干部": "乡镇干部：查看和修改全部村的数据",
    "村录入员": "村录入员：只能查看和修改所属村的数据",
    "只读": "只读：可以查看全部数据，不能修改",
}


class _ServiceDialog(FormDialog):
    """A form whose OK writes through a service: the fields are read first (``prepare``), the write waits
    visibly while another writer holds the database (ui.jobs.call_service); a refusal stays in the form."""

    def submit(self) -> None:
        try:
            write = self.prepare()
        except DomainError as exc:
            self.error.show_problems(problems_of(exc))
            return
        call_service(self, write, self._written, lambda exc: self.error.show_problems(problems_of(exc)))

    def _written(self, result: object) -> None:
        self.written(result)
        self.accept()

    def prepare(self) -> Callable[[], object]:
        raise AssertionError("subclasses read their fields and return the service call")

    def written(self, result: object) -> None:
        """What the dialog keeps of the service's answer."""


class UserDialog(_ServiceDialog):
    """New user (with a first password) or an existing user's name, role, village and state."""

    def __init__(self, ctx: AppContext, accounts: AccountService, user: UserDTO | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__("新增账号" if user is None else f"修改账号：{user.username}", "",
                         "保存", parent)
        self.accounts, self.user = accounts, user
        self.username = QLineEdit(user.username if user else "")
        self.username.setObjectName("username")
        self.display_name = QLineEdit(user.display_name if user else "")
        self.role = QComboBox()
        self.role.setObjectName("role")
        for role in ROLES:
            self.role.addItem(ROLE_HINTS.get(role, role), role)
        self.village = QComboBox()
        self.village.setObjectName("village")
        self.village.addItem("（不限）", None)
        for row in ctx.registry.villages():
            self.village.addItem(row.name, row.id)
        self.form.addRow("用户名", self.username)
        self.form.addRow("姓名", self.display_name)
        self.form.addRow("角色", self.role)
        self.form.addRow("所属村/社区", self.village)
        self.password = password_field("password")
        self.confirm = password_field("confirm")
        self.active = QCheckBox("账号可用")
        if user is None:
            self.form.addRow("初始密码", self.password)
            self.form.addRow("再输一次", self.confirm)
            self.active.setChecked(True)
        else:
            self.form.addRow("", self.active)
            self.active.setChecked(user.active)
            select_data(self.role, user.role)
            select_data(self.village, user.village_id)
        self.role.currentIndexChanged.connect(self._role_changed)
        self._role_changed()
        self.saved_id: int | None = None

    def _role_changed(self) -> None:
        clerk = self.role.currentData() == ROLE_VILLAGE
        self.village.setEnabled(clerk)
        if not clerk:
            self.village.setCurrentIndex(0)

    def prepare(self) -> Callable[[], object]:
        if self.user is None and self.password.text() != self.confirm.text():
            raise ValidationFailed([FieldProblem("confirm", "两次输入的密码不一致")])
        data = UserInput(
            username=self.username.text(), role=self.role.currentData(), display_name=self.display_name.text(),
            village_id=self.village.currentData(), password=self.password.text(),
            id=self.user.id if self.user else None, active=self.active.isChecked())
        return lambda: self.accounts.save_user(data)

    def written(self, result: object) -> None:
        self.saved_id = result  # type: ignore[assignment]


class ResetPasswordDialog(_ServiceDialog):
    def __init__(self, accounts: AccountService, user: UserDTO, parent: QWidget | None = None) -> None:
        super().__init__(f"重置密码：{user.username}", "重置后账号同时解除锁定。请把新密码当面告诉本人，"
                         "并请他登录后自己修改。", "重置", parent)
        self.accounts, self.user = accounts, user
        self.password = password_field("password")
        self.confirm = password_field("confirm")
        self.form.addRow("新密码", self.password)
        self.form.addRow("再输一次", self.confirm)

    def prepare(self) -> Callable[[], object]:
        user_id, password, confirm = self.user.id, self.password.text(), self.confirm.text()
        return lambda: self.accounts.reset_password(user_id, password, confirm)


class ReasonDialog(FormDialog):
    """Why full ID and phone numbers are needed; the reason goes into the audit log."""

    def __init__(self, what: str, parent: QWidget | None = None) -> None:
        super().__init__("填写原因", f"{what}会显示完整的身份证号和手机号。请填写原因，"
                         "原因和操作人会记入审计日志。", "确定", parent)
        self.reason = QLineEdit()
        self.reason.setObjectName("reason")
        self.reason.setPlaceholderText("如：县委组织部核对党员信息")
        self.form.addRow("原因", self.reason)

    def attempt(self) -> None:
        if len(self.reason.text().strip()) < 2:
            raise ValidationFailed([FieldProblem("reason", "请填写原因（至少两个字）")])

"""账号管理 (users, passwords) and 备份与恢复 (backup now, to a USB stick, restore) pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QVBoxLayout,
)

from townapp import config
from townapp.accounts.dto import UserDTO
from townapp.accounts.service import AccountService
from townapp.core.actor import ROLE_ADMIN
from townapp.core.errors import DomainError
from townapp.db import open_database
from townapp.db.backup import backup_and_rotate, backup_database, list_backups, restore_database
from townapp.db.base import utcnow
from townapp.ui.context import AppContext
from townapp.ui.forms.accounts import ResetPasswordDialog, UserDialog
from townapp.ui.jobs import Job, call_service, in_steps
from townapp.ui.login import ChangePasswordDialog
from townapp.ui.pages.base import Page
from townapp.ui.widgets.done import announce_written
from townapp.ui.widgets.tables import TableSearch, current_key, fill_table, select_key


def create_pages(ctx: AppContext) -> list[Page]:
    """Everyone gets their own account page; the administrator also manages backups."""
    pages: list[Page] = [AccountsPage(ctx)]
    if ctx.actor.role == ROLE_ADMIN:
        pages.append(BackupPage(ctx))
    return pages


def _button(text: str, name: str) -> QPushButton:
    button = QPushButton(text)
    button.setObjectName(name)
    return button


def _table(headers: tuple[str, ...], name: str) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setObjectName(name)
    table.setHorizontalHeaderLabels(list(headers))
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.horizontalHeader().setSectionResizeMode(len(headers) - 1, QHeaderView.ResizeMode.Stretch)
    table.verticalHeader().setVisible(False)
    return table


class AccountsPage(Page):
    title = "账号管理"
    HEADERS = ("用户名", "姓名", "角色", "所属村/社区", "状态")

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.accounts = AccountService(ctx.db, ctx.actor)
        self.is_admin = ctx.actor.role == ROLE_ADMIN
        self.users: list[UserDTO] = []
        me = QLabel(f"当前用户：{ctx.actor.username}（{ctx.actor.role}）")
        change = _button("修改我的密码", "change_password")
        change.clicked.connect(self.change_password)
        top = QHBoxLayout()
        top.addWidget(me)
        top.addStretch(1)
        top.addWidget(change)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        self.table = _table(self.HEADERS, "users")
        self.search = TableSearch(self.table, "搜索：用户名、姓名")
        self.search.setMinimumWidth(200)
        if self.is_admin:
            actions = QHBoxLayout()
            for text, name, slot in (("新增账号", "add_user", self.add_user), ("修改", "edit_user", self.edit_user),
                                     ("重置密码", "reset_password", self.reset_password)):
                button = _button(text, name)
                button.clicked.connect(slot)
                actions.addWidget(button)
            actions.addStretch(1)
            for box in (self.search.add_choice(3, "全部村/社区"), self.search.add_choice(2, "全部角色"),
                        self.search.add_choice(4, "全部状态")):
                actions.addWidget(box)
            actions.addWidget(self.search)
            layout.addLayout(actions)
            layout.addWidget(self.table, 1)
            self.table.doubleClicked.connect(lambda _index: self.edit_user())
        else:
            note = QLabel("账号由管理员新建和管理。忘记密码时请管理员重置。")
            layout.addWidget(note)
            layout.addStretch(1)
            self.table.hide()

    def refresh(self) -> None:
        if not self.is_admin:
            return
        picked = current_key(self.table) if self.table.selectedItems() else None
        self.users = self.accounts.users()
        now = utcnow()
        fill_table(self.table, self.HEADERS, [
            (u.username, u.display_name, u.role, u.village_name,
             "已停用" if not u.active else "已锁定" if u.locked_until and u.locked_until > now else "可用")
            for u in self.users], keys=[u.id for u in self.users], sortable=True)
        self.search.apply()
        self.table.resizeColumnsToContents()
        if picked is not None:
            select_key(self.table, picked)

    def selected_user(self) -> UserDTO | None:
        """The account on the row the user picked, wherever a sort or search has put it."""
        key = current_key(self.table) if self.table.selectedItems() else None
        return next((u for u in self.users if u.id == key), None)

    def change_password(self) -> None:
        if ChangePasswordDialog(self.accounts, self).exec() == QDialog.DialogCode.Accepted:
            QMessageBox.information(self, "已修改", "密码已修改，下次登录请使用新密码。")

    def add_user(self) -> None:
        if UserDialog(self.ctx, self.accounts, parent=self).exec() == QDialog.DialogCode.Accepted:
            self.refresh()

    def edit_user(self) -> None:
        user = self.selected_user()
        if user is None:
            self.show_error("请先选中一个账号")
            return
        if UserDialog(self.ctx, self.accounts, user, parent=self).exec() == QDialog.DialogCode.Accepted:
            self.refresh()

    def reset_password(self) -> None:
        user = self.selected_user()
        if user is None:
            self.show_error("请先选中一个账号")
            return
        if ResetPasswordDialog(self.accounts, user, self).exec() == QDialog.DialogCode.Accepted:
            self.refresh()
            QMessageBox.information(self, "已重置", f"{user.username} 的密码已重置，账号已解除锁定。")


class BackupPage(Page):
    title = "备份与恢复"
    HEADERS = ("时间", "原因", "文件")
    REASONS = {"startup": "启动时", "exit": "退出时", "periodic": "定时", "manual": "手动", "import": "导入前",
               "migration": "升级前", "before-restore": "恢复前", "copy": "复制"}

    SERVER_INTRO = ("正在使用服务器数据库：{where}\n服务器数据库由服务器管理员备份和恢复（在服务器上用 pg_dump 备份、"
                    "pg_restore 恢复），本机不做自动备份。本机装有 pg_dump 程序时，"
                    "可以点“备份到U盘或其他文件夹…”把服务器数据库另备份一份到本机。")
    SERVER_RESTORE = "服务器数据库只能由服务器管理员用 pg_restore 恢复"
    SERVER_BACKUP_NOW = "服务器数据库由服务器管理员备份；要在本机留一份，请用“备份到U盘或其他文件夹…”"

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.server = ctx.db.server  # no file to copy: the server's backups are its administrator's (pg_dump)
        self.table = _table(self.HEADERS, "backups")
        self.backups: list = []
        self.job: Job | None = None
        if self.server:
            intro = QLabel(self.SERVER_INTRO.format(where=ctx.db.location))
        else:
            intro = QLabel(f"备份保存在数据文件夹：{config.backup_dir()}\n启动、退出、导入前和有修改时每 30 分钟自动备份；"
                           "保留最近 7 天每天一份、4 周每周一份、12 个月每月一份。")
        intro.setObjectName("intro")
        intro.setWordWrap(True)
        actions = QHBoxLayout()
        self.buttons: dict[str, QPushButton] = {}
        for text, name, slot in (("立即备份", "backup_now", self.backup_now),
                                 ("备份到U盘或其他文件夹…", "backup_to_folder", self.backup_to_folder),
                                 ("用选中的备份恢复", "restore_selected", self.restore_selected),
                                 ("从文件恢复…", "restore_from_file", self.restore_from_file)):
            button = self.buttons[name] = _button(text, name)
            button.clicked.connect(slot)
            actions.addWidget(button)
        actions.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(actions)
        layout.addWidget(self.table, 1)
        if self.server:
            for name, why in (("backup_now", self.SERVER_BACKUP_NOW), ("restore_selected", self.SERVER_RESTORE),
                              ("restore_from_file", self.SERVER_RESTORE)):
                self.buttons[name].setEnabled(False)
                self.buttons[name].setToolTip(why)
            self.buttons["backup_to_folder"].setToolTip("用 pg_dump 把服务器数据库备份到选定的文件夹（需要本机装有 pg_dump）")
            self.table.hide()  # no backups in this computer's data folder to list
            layout.addStretch(1)

    def refresh(self) -> None:
        if self.server:  # the server keeps no backups in this computer's data folder
            return
        self.backups = list(reversed(list_backups(config.backup_dir(), self.ctx.db.path.stem)))
        fill_table(self.table, self.HEADERS, [
            (b.at.strftime("%Y-%m-%d %H:%M:%S"), self.REASONS.get(b.reason, b.reason), b.path.name)
            for b in self.backups], keys=[str(b.path) for b in self.backups], sortable=True)
        self.table.resizeColumnsToContents()

    def backup_now(self) -> None:
        if self.server:
            self.show_error(self.SERVER_BACKUP_NOW)
            return
        try:
            target = backup_and_rotate(self.ctx.db.path, "manual")
        except DomainError as exc:
            self.show_error(exc)
            return
        self.refresh()
        QMessageBox.information(self, "已备份", f"已备份到：\n{target}")

    def backup_to_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "选择备份到的文件夹（如U盘）")
        if not folder:
            return
        if self.server:
            self.dump_server(Path(folder))
            return
        try:
            target = backup_database(self.ctx.db.path, Path(folder), "copy")
        except DomainError as exc:
            self.show_error(exc)
            return
        announce_written(self, target, "备份", title="已备份", detail="已读回校验无误。", name="backup_done")

    def dump_server(self, folder: Path) -> Job:
        """A ``pg_dump`` of the server database into ``folder``, in the background (a county's takes minutes).
        Without pg_dump on this computer the message says that the administrator backs the server up."""
        from townapp.db.server import pg_dump_backup, server_url

        url = server_url(self.ctx.db.engine.url)  # with the password this session logged in with, if any

        def dump(_progress: object, _cancel: object) -> Path:
            return pg_dump_backup(url, folder, "copy")

        self.job = Job(self, "正在备份服务器数据库", dump,
                       on_success=lambda target: announce_written(self, target, "服务器数据库备份", title="已备份",
                                                                  detail="用 pg_restore 恢复。", name="backup_done"),
                       on_failure=self.show_error)
        return self.job.start()

    def restore_selected(self) -> None:
        key = current_key(self.table) if self.table.selectedItems() else None
        if key is None:
            self.show_error("请先选中一份备份")
            return
        self.restore_from(Path(str(key)))

    def restore_from_file(self) -> None:
        name, _filter = QFileDialog.getOpenFileName(self, "选择备份文件", "", "数据库备份 (*.db);;所有文件 (*)")
        if name:
            self.restore_from(Path(name))

    def restore_from(self, source: Path) -> None:
        if self.server:
            self.show_error(self.SERVER_RESTORE)
            return
        if not self.confirm(f"用这份备份替换当前的全部数据吗？\n{source.name}\n\n恢复前会先自动备份当前数据。"):
            return
        path = self.ctx.db.path
        call_service(self, in_steps(lambda: restore_database(path, source),
                                    lambda: open_database(path).dispose()),  # an older backup's schema is brought up to date
                     lambda results: self._restored(source, results[0]), self.show_error, title="没有恢复")

    def _restored(self, source: Path, result: Any) -> None:  # the restore's result
        self.refresh()
        self.data_changed.emit()
        QMessageBox.information(self, "已恢复", f"已从 {source.name} 恢复。\n恢复前的数据已备份到：\n"
                                f"{result.previous_state}")

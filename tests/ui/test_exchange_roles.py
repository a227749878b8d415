"""The 数据交换 page offers the sync package only to the roles the service lets write it (issue 16, hole 1)."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QPushButton

from townapp.core.actor import ROLE_ADMIN, ROLE_READONLY, ROLE_TOWNSHIP, ROLE_VILLAGE, Actor
from townapp.registry.dto import VillageInput
from townapp.registry.service import RegistryService
from townapp.ui.app import open_main_window


@pytest.mark.parametrize("role", [ROLE_ADMIN, ROLE_TOWNSHIP, ROLE_VILLAGE, ROLE_READONLY])
def test_package_button_only_for_township_roles(app, db, qtbot, role: str) -> None:  # noqa: ANN001
    """GIVEN a logged-in user of each role WHEN they open 数据交换
    THEN 导出报县同步数据包 is enabled for 管理员/乡镇干部 only; for the others it is greyed with the reason;
    导入 is greyed for 只读 (the pipeline refuses its imports too)."""
    vid = RegistryService(db).save_village(VillageInput(code="140821100201", name="东张村", groups=["一组"]))
    window = open_main_window(db, Actor("某人", role, vid if role == ROLE_VILLAGE else None))
    qtbot.addWidget(window)
    page = window.open_page("数据交换")
    button = page.findChild(QPushButton, "export_package")
    township = role in (ROLE_ADMIN, ROLE_TOWNSHIP)
    assert button.isEnabled() is township
    assert ("乡镇干部或管理员" in button.toolTip()) is not township
    assert page.findChild(QPushButton, "export_template").isEnabled()
    assert page.findChild(QPushButton, "open_import").isEnabled() is (role != ROLE_READONLY)
    window.close()

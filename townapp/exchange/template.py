"""The import template: 填写说明 plus one sheet per entity, generated from the specs.

Header row frozen, ID/phone/code columns formatted as text ("@") so Excel
keeps all 18 digits, drop-down lists for every vocabulary column, and one
example row whose first cell starts with “示例” — the importer skips it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.datavalidation import DataValidation

from townapp.core.atomic import atomic_output
from townapp.exchange import spec as s
from townapp.exchange.writer import (
    DATE_FORMAT,
    HEADER_FONT,
    MAX_WIDTH,
    TEXT_FORMAT,
    fit_columns,
    set_cell,
    write_header,
)

EXAMPLE_PREFIX = "示例："
TEMPLATE_ROWS = 1000  # rows pre-formatted as text for ID and phone columns
EXAMPLE_FONT = Font(italic=True, color="808080")
INSTRUCTIONS = "填写说明"
GENERAL_RULES = (
    "1. 每个工作表对应一类数据，请勿修改表头文字；不需要的列可以删除，多出的列导入时会被忽略并提示。",
    "2. 第2行是示例（第一格以“示例”开头），导入时自动跳过，可以删除也可以保留。",
    "3. 身份证号、联系电话、区划代码、户编号列已设为“文本”格式。从别处粘贴时请用“选择性粘贴→数值”，"
    "否则身份证号可能变成 1.40821E+17，后几位丢失，导入时会被拒绝。",
    "4. 日期可写 2021-07-01、2021/7/1、2021.07.01、20210701 或 2021年7月1日。",
    "5. 有下拉箭头的列请从列表中选择；常见的其他写法（如“中共党员”“男性”“1/2”）导入时也能识别。",
    "6. 导入前先“试导入”：程序逐行检查，列出所有错误（工作表、行号、列名和原因），改正后再正式导入。"
    "只要有一处错误，整个文件都不会导入，数据库保持原样。",
    "7. 同一文件重复导入不会产生重复记录：按区划代码、村+户编号、身份证号找到已有记录并更新。",
    "8. 本表将含有个人信息，请妥善保管，不要通过微信群、邮箱等随意传送。",
)


def _describe(column: s.ColumnSpec) -> str:
    kinds = {
        s.TEXT: "文字", s.NAME: "文字（名称）", s.CODE: "文本格式的编号", s.ID_NUMBER: "18位身份证号（文本）",
        s.PHONE: "电话号码（文本）", s.DATE: "日期", s.ENUM: "从下拉列表选择", s.INT: "整数", s.LIST: "多个名称，用、隔开",
    }
    text = kinds[column.kind]
    if column.month_precision:
        text += "（只知年月可写 1978.02）"
    if column.choices:
        text += "：" + "、".join(column.choices)
    return text


def _instructions(wb: Workbook, specs: Sequence[s.SheetSpec]) -> None:
    """Rules and each sheet's columns; a line of prose spans the four columns and wraps in them."""
    ws = wb.active
    ws.title = INSTRUCTIONS

    def prose(row: int, text: str, font: Font | None = None) -> None:
        cell = set_cell(ws.cell(row, 1), text)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if font is not None:
            cell.font = font
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=4)

    prose(1, "乡镇党建与基层治理台账 · Excel导入模板", Font(bold=True, size=14))
    row = 3
    for rule in GENERAL_RULES:
        prose(row, rule)
        row += 1
    row += 1
    for spec in specs:
        prose(row, f"工作表“{spec.title}”", Font(bold=True, size=12))
        row += 1
        if spec.description:
            prose(row, spec.description)
            row += 1
        if spec.aliases:
            prose(row, "也能识别的工作表名：" + "、".join(spec.aliases))
            row += 1
        for col, title in enumerate(("列名", "必填", "格式 / 可填内容", "说明"), start=1):
            set_cell(ws.cell(row, col), title).font = HEADER_FONT
        row += 1
        for column in spec.columns:
            note = column.note
            if column.aliases:
                note = (note + "；" if note else "") + "也可写作：" + "、".join(column.aliases[:6])
            for col, value in enumerate((column.header, "必填" if column.required else "",
                                         _describe(column), note), start=1):
                cell = set_cell(ws.cell(row, col), value)
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            row += 1
        row += 1
    # the prose wraps across all four columns: they hold the column tables, the prose gets what they make
    fit_columns(ws, floors={1: 12, 2: 6, 3: 30, 4: 40}, caps={3: 46, 4: MAX_WIDTH})


def _entity_sheet(wb: Workbook, spec: s.SheetSpec) -> None:
    ws = wb.create_sheet(spec.title)
    write_header(ws, spec.columns)
    for index, column in enumerate(spec.columns, start=1):
        value = column.example
        if isinstance(value, (tuple, list)):
            value = "、".join(value)
        if index == 1:
            value = f"{EXAMPLE_PREFIX}{'' if value is None else value}"
        cell = set_cell(ws.cell(2, index), value, text=column.text_format)
        cell.font = EXAMPLE_FONT
        letter = cell.column_letter
        # a date that may be a month alone is typed as text: Excel keeps 1978.10 (as a number it shows 1978.1)
        if column.text_format or column.month_precision:
            for row in range(3, TEMPLATE_ROWS + 1):
                ws.cell(row, index).number_format = TEXT_FORMAT
        elif column.kind == s.DATE:
            ws.column_dimensions[letter].number_format = DATE_FORMAT
        if column.kind == s.ENUM and column.choices:
            formula = '"' + ",".join(column.choices) + '"'
            validation = DataValidation(type="list", formula1=formula, allow_blank=True, showDropDown=False,
                                        showErrorMessage=True, errorStyle="warning", errorTitle="不在可选范围内",
                                        error=f"{column.header}请从下拉列表中选择：{'、'.join(column.choices)}",
                                        promptTitle=column.header, prompt="请从下拉列表中选择", showInputMessage=True)
            validation.add(f"{letter}2:{letter}{TEMPLATE_ROWS}")
            ws.add_data_validation(validation)
    # room to type in each column (the spec's width) and at least its header and example
    fit_columns(ws, floors={index: column.width for index, column in enumerate(spec.columns, start=1)})


def write_template(specs: Sequence[s.SheetSpec], out: Path | str) -> Path:
    """Write the template atomically; returns its path."""
    out = Path(out)
    wb = Workbook()
    _instructions(wb, specs)
    for spec in specs:
        _entity_sheet(wb, spec)
    with atomic_output(out) as tmp:
        wb.save(tmp)
    return out

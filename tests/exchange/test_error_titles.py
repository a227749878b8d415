"""Every code an import can report has a Chinese title (the wizard shows titles; the JSON report keeps codes)."""

from __future__ import annotations

import ast
from pathlib import Path

from townapp.exchange.report import ERROR_TITLES, ImportReport, Issue, error_title

PACKAGE = Path(__file__).resolve().parents[2] / "townapp"
# the calls that give an issue its code: where the code stands among their arguments, and how many they have
# (an evaluation cell's CellError has only a message; a logger's error only its text)
CODE_ARGUMENT = {"error": (2, 4), "file_error": (0, 2), "CellError": (0, 2), "FileRejected": (0, 2),
                 "IdNumberError": (0, 2), "Issue": (3, 5)}
# codes chosen by a function or a table rather than written in the call: the table's values are read below
COMPUTED = {"_problem_code(problem, values['id_number'])", "code_", "code", "exc.code"}


def _constants(tree: ast.Module) -> dict[str, str]:
    return {target.id: node.value.value for node in tree.body if isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
            for target in node.targets if isinstance(target, ast.Name)}


def _strings(node: ast.AST, constants: dict[str, str]) -> set[str] | None:
    """The codes an argument can be: a literal, a module constant, either side of ``a if c else b``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.Name) and node.id in constants:
        return {constants[node.id]}
    if isinstance(node, ast.IfExp):
        body, orelse = _strings(node.body, constants), _strings(node.orelse, constants)
        return None if body is None or orelse is None else body | orelse
    return None


def codes_in_source() -> tuple[set[str], set[str]]:
    """(every code written in townapp's source, the code arguments that are computed)."""
    trees = {path: ast.parse(path.read_text(encoding="utf-8")) for path in PACKAGE.rglob("*.py")}
    constants: dict[str, str] = {}
    for tree in trees.values():
        constants.update(_constants(tree))
    codes: set[str] = set()
    computed: set[str] = set()
    for path, tree in trees.items():
        for node in ast.walk(tree):
            if path.name == "sheets.py" and isinstance(node, ast.Dict) and _is_code_table(node):
                codes |= {_last(v) for v in node.values} - {None}  # type: ignore[operator]
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            position, arguments = CODE_ARGUMENT.get(name, (-1, 0))
            if position < 0 or len(node.args) < arguments:
                continue
            found = _strings(node.args[position], constants)
            if found is None:
                computed.add(ast.unparse(node.args[position]))
            else:
                codes |= found
    return codes, computed


def _last(node: ast.AST) -> str | None:
    if isinstance(node, ast.Tuple) and node.elts:
        node = node.elts[-1]
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _is_code_table(node: ast.Dict) -> bool:
    """A sheet's table from a problem's field to the code it reports (_problem_code, _RECORD_COLUMNS)."""
    values = [_last(v) for v in node.values]
    return bool(values) and all(v is not None and v.isascii() and v.islower() for v in values) and \
        any(v in ERROR_TITLES for v in values) and all(isinstance(k, ast.Constant) for k in node.keys)


def test_every_code_in_the_source_has_a_chinese_title() -> None:
    """GIVEN every code the import pipeline, the sheets and the ID check can report (read from the source)
    WHEN the wizard shows it THEN it has a Chinese title; and no code is computed in a way this test cannot read."""
    codes, computed = codes_in_source()
    assert len(codes) > 40
    assert sorted(codes - set(ERROR_TITLES)) == []
    assert computed <= COMPUTED, f"新的计算出的错误代码，请在测试中读出它的取值：{sorted(computed - COMPUTED)}"
    assert all(title and title.isascii() is False for title in ERROR_TITLES.values())


def test_the_json_report_keeps_the_code_and_the_text_report_shows_the_title(tmp_path: Path) -> None:
    """GIVEN a report with an unknown person WHEN written as JSON (DESIGN §8) THEN the code is there unchanged;
    WHEN written as text THEN the title stands where the code was; an unknown code reads as 其他错误."""
    report = ImportReport("花名册.xlsx", dry_run=True)
    report.errors.append(Issue("党员", 3, "身份证号", "unknown_person", "身份证号未在人员信息中登记"))
    assert report.to_dict()["errors"][0]["code"] == "unknown_person"
    assert "（人员未登记）" in report.summary_text() and "unknown_person" not in report.summary_text()
    assert error_title("from_a_newer_program") == "其他错误"

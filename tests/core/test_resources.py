"""Resource files through one loader: every shipped file loads, a malformed one of each kind is refused in Chinese.

The message of a refused file names the file, the place inside it and what is
wrong, whatever the kind (scheme, rule set, layout, vocabulary, policy …).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from tests.figures import record
from townapp import config
from townapp.accounts.audit import AuditLabelsFile
from townapp.archives.remuneration import PayRules, load_pay_rules
from townapp.archives.rules import RulesFile, load_rules
from townapp.archives.vocab import FieldsFile, RectificationFile
from townapp.bench import BenchTargets
from townapp.core.policy import PolicyFile
from townapp.core.resources import DataFile, ResourceError, load
from townapp.evaluations.schemes import SchemeFile, VocabularyFile, load_file
from townapp.followup.rules import RulesFile as FollowUpRulesFile
from townapp.grids.scheme import AssessmentFile, Structure
from townapp.outputs.certificates import layouts
from townapp.outputs.layouts import CertificateLayoutFile
from townapp.outputs.parameters import FiguresFile
from townapp.outputs.returns import LayoutFile, ReturnsFile, load_layouts
from townapp.points.rules import RuleSetFile, SettingsFile, parse_text
from townapp.registry.vocab import VocabularyFile as VocabulariesFile

# every JSON file under resources/ and the model it is read with
MODELS: dict[str, type[BaseModel]] = {
    "accounts/audit_labels.json": AuditLabelsFile,
    "archives/demo.json": DataFile,
    "archives/fields.json": FieldsFile,
    "archives/rectification.json": RectificationFile,
    "archives/remuneration.json": PayRules,
    "archives/rules.json": RulesFile,
    "archives/vocabularies.json": VocabulariesFile,
    "bench/targets.json": BenchTargets,
    "demo/names.json": DataFile,
    "demo/places.json": DataFile,
    "demo/population.json": DataFile,
    "evaluations/demo.json": DataFile,
    "evaluations/vocabulary.json": VocabularyFile,
    "followup/rules.json": FollowUpRulesFile,
    "grids/assessment.json": AssessmentFile,
    "grids/demo.json": DataFile,
    "grids/structure.json": Structure,
    "grids/vocabularies.json": VocabulariesFile,
    "points/default_rules.json": RuleSetFile,
    "points/settings.json": SettingsFile,
    "registry/vocabularies.json": VocabulariesFile,
    "returns/figures.json": FiguresFile,
    "returns/returns.json": ReturnsFile,
    "safety/policy.json": PolicyFile,
}
FOLDERS: dict[str, type[BaseModel]] = {"schemes": SchemeFile, "certificates": CertificateLayoutFile,
                                       "returns": LayoutFile}  # a folder's other files: one model each


def _model_of(relative: str) -> type[BaseModel]:
    return MODELS.get(relative) or FOLDERS[relative.split("/")[0]]


def test_every_shipped_resource_file_has_a_model_and_loads() -> None:
    # GIVEN every JSON file under resources/
    root = config.resources_dir()
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.json"))
    # WHEN each is read with its model THEN all load (a new file without a model fails here)
    for relative in files:
        load(_model_of(relative), root / relative)
    # AND the loaders that convert the models into the domain objects accept them too
    assert len(load_layouts()[1]) == 5 and len(layouts()) == 5 and load_rules() and load_pay_rules()
    record("资源文件（逐个按模型载入）", len(files))


Mutate = Callable[[Any], Any]


def _delete(*path: str | int) -> Mutate:
    def mutate(data: Any) -> None:
        for part in path[:-1]:
            data = data[part]
        del data[path[-1]]
    return mutate


def _set(*path: str | int, value: Any) -> Mutate:
    def mutate(data: Any) -> None:
        for part in path[:-1]:
            data = data[part]
        data[path[-1]] = value
    return mutate


# (kind, file, what is wrong, place in the message, problem in the message): for each kind a missing
# required field, a wrong type, an unknown key and an out-of-range value (free-form mappings such as
# vocabulary or field-group names take any key: they are the data, so they have no "unknown key" case)
CASES: list[tuple[str, str, Mutate, str, str]] = [
    ("整改跟踪规则", "followup/rules.json", _delete("rules", 0, "kind"), "rules 第1项 → kind", "缺少必填项"),
    ("整改跟踪规则", "followup/rules.json", _set("rules", 0, "deadline", "months", value="十二"),
     "rules 第1项 → deadline → months", "应为整数"),
    ("整改跟踪规则", "followup/rules.json", _set("rules", 0, "owner", value="乡镇"), "rules 第1项 → owner",
     "不认识的字段"),
    ("整改跟踪规则", "followup/rules.json", _set("rules", 0, "deadline", "months", value=0),
     "rules 第1项 → deadline → months", "不能小于1"),
    ("评定方案", "schemes/village_org_star.json", _delete("unrated"), "unrated", "缺少必填项"),
    ("评定方案", "schemes/village_org_star.json", _set("levels", 0, "min", value="高"), "levels 第1项 → min", "应为数字"),
    ("评定方案", "schemes/village_org_star.json", _set("stages", 0, "owner", value="乡镇"), "stages 第1项 → owner",
     "不认识的字段"),
    ("评定方案", "schemes/village_org_star.json", _set("revocation", value={"ban_years": -1}),
     "revocation → ban_years", "不能小于0"),
    ("积分规则", "points/default_rules.json", _delete("rules", 0, "direction"), "rules 第1项 → direction", "缺少必填项"),
    ("积分规则", "points/default_rules.json", _set("publicity_days", value="五"), "publicity_days", "应为整数"),
    ("积分规则", "points/default_rules.json", _set("rules", 0, "bonus", value=1), "rules 第1项 → bonus", "不认识的字段"),
    ("积分规则", "points/default_rules.json", _set("publicity_days", value=45), "publicity_days", "不能大于30"),
    ("积分设置", "points/settings.json", _delete("receipt_prefix"), "receipt_prefix", "缺少必填项"),
    ("积分设置", "points/settings.json", _set("store_defaults", "goods", 0, "stock", value="十"),
     "store_defaults → goods 第1项 → stock", "应为整数"),
    ("积分设置", "points/settings.json", _set("colour", value="红"), "colour", "不认识的字段"),
    ("积分设置", "points/settings.json", _set("store_defaults", "goods", 0, "stock", value=-1),
     "store_defaults → goods 第1项 → stock", "不能小于0"),
    ("档案校验规则", "archives/rules.json", _delete("rules", 0, "message"), "rules 第1项 → message", "缺少必填项"),
    ("档案校验规则", "archives/rules.json", _set("rules", 7, "min", value="三"), "rules 第8项 → min", "应为整数"),
    ("档案校验规则", "archives/rules.json", _set("rules", 5, "note", value="x"), "rules 第6项 → note", "不认识的字段"),
    ("档案校验规则", "archives/rules.json", _set("rules", 0, "severity", value="fatal"), "rules 第1项 → severity",
     "应为以下之一：error / warning"),
    ("村干部报酬规则", "archives/remuneration.json", _delete("basic_monthly_default"), "basic_monthly_default",
     "缺少必填项"),
    ("村干部报酬规则", "archives/remuneration.json", _set("assessment", "优秀", value="六千"), "assessment → 优秀",
     "应为整数"),
    ("村干部报酬规则", "archives/remuneration.json", _set("bonus", value=1), "bonus", "不认识的字段"),
    ("村干部报酬规则", "archives/remuneration.json", _set("basic_monthly_default", value=-1), "basic_monthly_default",
     "不能小于0"),
    ("档案字段表", "archives/fields.json", _delete("profile", 0, 2), "profile 第1项 第3项", "缺少必填项"),
    ("档案字段表", "archives/fields.json", _set("profile", 0, 1, value=5), "profile 第1项 第2项", "应为文字"),
    ("档案字段表", "archives/fields.json", _set("profile", 0, 2, value="money2"), "profile 第1项 第3项",
     "字段类型“money2”应为"),
    ("整顿认定条款", "archives/rectification.json", _delete("pass_mark"), "pass_mark", "缺少必填项"),
    ("整顿认定条款", "archives/rectification.json", _set("clauses", 0, "text", value=1), "clauses 第1项 → text",
     "应为文字"),
    ("整顿认定条款", "archives/rectification.json", _set("clauses", 0, "note", value="x"), "clauses 第1项 → note",
     "不认识的字段"),
    ("整顿认定条款", "archives/rectification.json", _set("pass_mark", value=120), "pass_mark", "不能大于100"),
    ("取值表", "registry/vocabularies.json", _delete("sex", "label"), "sex → label", "缺少必填项"),
    ("取值表", "registry/vocabularies.json", _set("sex", "values", value="男"), "sex → values", "应为列表"),
    ("取值表", "registry/vocabularies.json", _set("sex", "hint", value="x"), "sex → hint", "不认识的字段"),
    ("取值表", "grids/vocabularies.json", _set("level", "values", value=[]), "level → values", "至少要有1项"),
    ("网格结构", "grids/structure.json", _delete("head_role"), "head_role", "缺少必填项"),
    ("网格结构", "grids/structure.json", _set("coverage_listed", value="三十"), "coverage_listed", "应为整数"),
    ("网格结构", "grids/structure.json", _set("depth", value=3), "depth", "不认识的字段"),
    ("网格结构", "grids/structure.json", _set("coverage_listed", value=0), "coverage_listed", "不能小于1"),
    ("网格考核方案", "grids/assessment.json", _delete("items", 0, "max"), "items 第1项 → max", "缺少必填项"),
    ("网格考核方案", "grids/assessment.json", _set("subsidy", "base_fen", value="六百"), "subsidy → base_fen",
     "应为整数"),
    ("网格考核方案", "grids/assessment.json", _set("best_member", "note", value="x"), "best_member → note",
     "不认识的字段"),
    ("网格考核方案", "grids/assessment.json", _set("subsidy", "bands", 0, "factor", value="1.5"),
     "subsidy → bands 第1项 → factor", "不能大于1"),
    ("安全策略", "safety/policy.json", _delete("lockout", "minutes"), "lockout → minutes", "缺少必填项"),
    ("安全策略", "safety/policy.json", _set("password", "min_length", value="八"), "password → min_length", "应为整数"),
    ("安全策略", "safety/policy.json", _set("backup", "hourly", value=24), "backup → hourly", "不认识的字段"),
    ("安全策略", "safety/policy.json", _set("lockout", "failures", value=0), "lockout → failures", "不能小于1"),
    ("审计日志名称表", "accounts/audit_labels.json", _delete("actions"), "actions", "缺少必填项"),
    ("审计日志名称表", "accounts/audit_labels.json", _set("entities", value=[]), "entities", "应为对象"),
    ("审计日志名称表", "accounts/audit_labels.json", _set("colours", value={}), "colours", "不认识的字段"),
    ("报表口径", "returns/figures.json", _delete("org_star_scheme"), "org_star_scheme", "缺少必填项"),
    ("报表口径", "returns/figures.json", _set("age_bands", "young_max", value="三十五"), "age_bands → young_max",
     "应为整数"),
    ("报表口径", "returns/figures.json", _set("age_bands", "old_min", value=60), "age_bands → old_min", "不认识的字段"),
    ("报表口径", "returns/figures.json", _set("age_bands", "young_max", value=200), "age_bands → young_max",
     "不能大于150"),
    ("报表设置", "returns/returns.json", _delete("total_label"), "total_label", "缺少必填项"),
    ("报表设置", "returns/returns.json", _set("charts_in_pdf", value="也许"), "charts_in_pdf", "应为 true 或 false"),
    ("报表设置", "returns/returns.json", _set("margin_mm", value=10), "margin_mm", "不认识的字段"),
    ("报表设置", "returns/returns.json", _set("orientation", value="portrait"), "orientation", "应为以下之一：landscape"),
    ("报表版式", "returns/02_points.json", _delete("key"), "key", "缺少必填项"),
    ("报表版式", "returns/02_points.json", _set("order", value="二"), "order", "应为整数"),
    ("报表版式", "returns/02_points.json", _set("columns", 0, "width", value=20), "columns 第1项 → width",
     "不认识的字段"),
    ("报表版式", "returns/02_points.json", _set("columns", 1, "columns", 0, "format", value="pct"),
     "columns 第2项（年度积分） → columns 第1项 → format", "应为以下之一：int / yuan"),
    ("证书版式", "certificates/household-star.json", _delete("number_prefix"), "number_prefix", "缺少必填项"),
    ("证书版式", "certificates/household-star.json", _set("page", "width_mm", value="宽"), "page → width_mm",
     "应为数字"),
    ("证书版式", "certificates/household-star.json", _set("fields", 0, "bold", value=True), "fields 第1项 → bold",
     "不认识的字段"),
    ("证书版式", "certificates/household-star.json", _set("fields", 0, "size", value=0), "fields 第1项 → size",
     "应大于0"),
    ("性能目标", "bench/targets.json", _delete("rss_mb"), "rss_mb", "缺少必填项"),
    ("性能目标", "bench/targets.json", _set("search_repeats", value="七"), "search_repeats", "应为整数"),
    ("性能目标", "bench/targets.json", _set("figures", "import", "minutes", value=1), "figures → import → minutes",
     "不认识的字段"),
    ("性能目标", "bench/targets.json", _set("search_repeats", value=0), "search_repeats", "应大于0"),
    ("评定用语", "evaluations/vocabulary.json", _delete("targets"), "targets", "缺少必填项"),
    ("评定用语", "evaluations/vocabulary.json", _set("yes_no", value=[]), "yes_no", "应为对象"),
    ("评定用语", "evaluations/vocabulary.json", _set("colours", value={}), "colours", "不认识的字段"),
]


def _copy_with(tmp_path: Path, relative: str, mutate: Mutate) -> Path:
    data = json.loads(config.resource(*relative.split("/")).read_text(encoding="utf-8"))
    mutate(data)
    path = tmp_path / f"my_{Path(relative).name}"
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


@pytest.mark.parametrize(("label", "relative", "mutate", "place", "problem"), CASES,
                         ids=[f"{c[1]}:{c[3]}:{c[4]}" for c in CASES])
def test_a_malformed_file_of_each_kind_names_the_file_the_field_and_the_problem(
        tmp_path: Path, label: str, relative: str, mutate: Mutate, place: str, problem: str) -> None:
    # GIVEN a copy of a shipped file with one mistake
    path = _copy_with(tmp_path, relative, mutate)
    # WHEN it is loaded with its model THEN it is refused with a Chinese message naming file, place and problem
    with pytest.raises(ResourceError) as caught:
        load(_model_of(relative), path)
    message = caught.value.message
    assert message.startswith(f"{label}“{path.name}”有误，未能载入：")
    assert f"{place}：" in message and problem in message, message


def test_every_kind_has_each_mistake_covered() -> None:
    # GIVEN the kinds of file (by the name a message gives them) WHEN the cases above are counted
    kinds = {model.resource_label for model in (*MODELS.values(), *FOLDERS.values()) if model is not DataFile}
    covered = {label for label, *_rest in CASES}
    # THEN every kind has malformed cases (free-form mappings have no "unknown key" or range case to make)
    assert covered == kinds
    assert all(sum(c[0] == kind for c in CASES) >= 2 for kind in kinds)
    record("资源文件种类 × 错误（逐个拒绝并指明位置）", f"{len(kinds)}种/{len(CASES)}例")


@pytest.mark.parametrize("relative", sorted({*MODELS, "schemes/secretary_star.json", "returns/01_party_members.json",
                                             "certificates/grid-star.json"}))
def test_broken_json_names_the_file_line_and_column(tmp_path: Path, relative: str) -> None:
    # GIVEN a shipped file with the comma after its first entry removed
    text = config.resource(*relative.split("/")).read_text(encoding="utf-8")
    broken = text.replace(",", "", 1)
    path = tmp_path / Path(relative).name
    path.write_text(broken, encoding="utf-8")
    # WHEN it is loaded THEN the message names the file, the line and column, and what is missing
    with pytest.raises(ResourceError) as caught:
        load(_model_of(relative), path)
    assert path.name in caught.value.message and "行" in caught.value.message and "列" in caught.value.message
    assert "不是有效的JSON" in caught.value.message


def test_a_missing_file_and_a_file_not_in_utf8_are_refused_in_chinese(tmp_path: Path) -> None:
    with pytest.raises(ResourceError, match=r"积分规则“absent\.json”有误，未能载入：\n找不到文件"):
        load(RuleSetFile, tmp_path / "absent.json")
    ansi = tmp_path / "gbk.json"
    ansi.write_bytes('{"name": "规则"}'.encode("gbk"))
    with pytest.raises(ResourceError, match="不是UTF-8编码"):
        load(RuleSetFile, ansi)


# ----- the paths a user loads their own file through use the same loader and messages -------------------------
def test_a_users_scheme_rules_and_layout_folders_get_the_same_messages(tmp_path: Path) -> None:
    # GIVEN a township's own scheme file, rule set text, archive rules, return layouts and certificate layouts
    scheme = _copy_with(tmp_path, "schemes/civilized_household.json", _set("period", value="week"))
    with pytest.raises(ResourceError, match=r"my_civilized_household\.json(.|\n)*period：应为以下之一：month"):
        load_file(scheme)
    text = config.resource("points", "default_rules.json").read_text(encoding="utf-8").replace('"kind": "add"',
                                                                                               '"kind": "plus"', 1)
    with pytest.raises(ResourceError, match=r"积分规则“界面编辑”(.|\n)*categories 第2项 → kind：应为以下之一"):
        parse_text(text, "界面编辑")
    rules = _copy_with(tmp_path, "archives/rules.json", _set("rules", 0, "op", value="=<"))
    with pytest.raises(ResourceError, match=r"my_rules\.json(.|\n)*rules 第1项 → op"):
        load_rules(rules)
    returns = tmp_path / "returns"
    shutil.copytree(config.resource("returns"), returns)
    (returns / "09_extra.json").write_text('{"key": "extra", "sheet": "表", "title": "标题", "columns": [{}]}',
                                           encoding="utf-8")
    with pytest.raises(ResourceError, match=r"09_extra\.json(.|\n)*columns 第1项 → header：缺少必填项"):
        load_layouts(returns)
    certificates = tmp_path / "certificates"
    shutil.copytree(config.resource("certificates"), certificates)
    own = certificates / "grid-star.json"
    own.write_text(own.read_text(encoding="utf-8").replace('"align": "left"', '"align": "middle"', 1), "utf-8")
    with pytest.raises(ResourceError, match=r"grid-star\.json(.|\n)*fields 第\d+项 → align：应为以下之一"):
        layouts(certificates)

"""The message catalogue: complete in Chinese, nothing stale, placeholders kept, clauses never translated."""

from __future__ import annotations

import re
from importlib import resources

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

from policies.i18n import LANGUAGES, UnknownLanguage, rule_text, translate
from policies.loader import load_pack, pack_names
from policies.model import SEVERITIES
from policies.report import TEXT_TAG
from tests.helpers import REPO, run_cli

PYTHON_SOURCES = ("policies/report.py",)
TEMPLATES = sorted((REPO / "policies" / "html" / "templates").glob("*.j2"))
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _catalogue():
    ref = resources.files("policies.locale") / "zh" / "LC_MESSAGES" / "govnet.po"
    with ref.open("rb") as handle:
        return read_po(handle, locale="zh_CN")


def used_messages() -> set[str]:
    """Every message the code and the templates translate (Babel's extractors), and the words chosen at run time."""
    found: set[str] = set()
    for path in PYTHON_SOURCES:
        for _, message, _, _ in extract_from_file("python", str(REPO / path), keywords={"translate": (2,)}):
            found.add(message)
    for path in TEMPLATES:
        for _, message, _, _ in extract_from_file("jinja2.ext:babel_extract", str(path), keywords={"_": None},
                                                  options={"extensions": "jinja2.ext.i18n", "trim_blocks": "true",
                                                           "lstrip_blocks": "true"}):
            found.add(message)
    found |= {tag.strip() for tag in TEXT_TAG.values()} | set(SEVERITIES)
    return found


def rule_texts() -> dict[tuple[str, str], str]:
    """(context, English) of every title, description and fix hint of the built-in packs."""
    out = {}
    for pack in pack_names():
        for rule in load_pack(pack).rules:
            for field in ("title", "description", "fix"):
                out[(f"{rule.id}.{field}", getattr(rule, field))] = rule.clause
    return out


def test_translate_and_languages():
    assert LANGUAGES == ("zh", "en")
    assert translate("zh", "pass") == "通过" and translate("en", "pass") == "pass"
    assert translate("zh", "phase %(phase)s:", phase="一期") == "阶段 一期:"
    assert translate("zh", "a message nobody wrote") == "a message nobody wrote"  # gettext falls back to English
    with pytest.raises(UnknownLanguage, match="languages: zh, en"):
        translate("fr", "pass")


def test_every_message_used_has_a_chinese_translation_with_the_same_placeholders():
    catalogue = _catalogue()
    missing = []
    for message in sorted(used_messages()):
        entry = catalogue.get(message)
        if entry is None or not entry.string:
            missing.append(message)
            continue
        assert set(PLACEHOLDER.findall(entry.string)) == set(PLACEHOLDER.findall(message)), message
    assert missing == []


def test_every_rule_of_the_built_in_packs_has_a_title_a_fix_and_their_chinese():
    catalogue = _catalogue()
    for (context, english), clause in rule_texts().items():
        assert english, f"{context} is empty in its pack"
        entry = catalogue.get(english, context=context)
        assert entry is not None and entry.string, f"no Chinese for {context}"
        assert re.search(r"[\u4e00-\u9fff]", entry.string), context
        assert clause not in entry.string or not clause  # the clause is cited as sourced, never translated


def test_nothing_in_the_catalogue_is_stale():
    used = used_messages()
    texts = set(rule_texts())
    stale = [(m.context, m.id) for m in _catalogue() if m.id and (m.id not in used if m.context is None
                                                                    else (m.context, m.id) not in texts)]
    assert stale == []


def test_rule_text_falls_back_to_english_for_a_policy_file_of_ones_own():
    from policies.model import PolicyRule

    mine = PolicyRule("LOCAL-1", "coverage", title="Every office is covered", fix="Connect it")
    assert rule_text(mine, "title", "zh") == "Every office is covered"
    assert rule_text(mine, "description", "zh") == ""
    egov = next(r for r in load_pack("egov-baseline").rules if r.id == "EGOV-PI-2")
    assert rule_text(egov, "title", "zh") == "政务内网与政务外网、互联网物理隔离"
    assert egov.clause.startswith("中办发〔2002〕17号")


def test_check_speaks_chinese_on_request_and_english_by_default():
    plan = REPO / "scenarios/weihai/plan.yaml"
    default = run_cli("check", plan)
    english = run_cli("check", plan, "--lang", "en")
    chinese = run_cli("check", plan, "--lang", "zh")
    assert default.returncode == english.returncode == chinese.returncode == 0
    assert default.stdout == english.stdout
    assert english.stdout.startswith("govnet check: ") and "rule checks:" in english.stdout
    assert chinese.stdout.startswith("govnet 合规检查: ")
    assert "通过 [严重] EGOV-PI-1" in chinese.stdout
    assert re.search(r"共 \d+ 项规则检查: 0 项不通过", chinese.stdout.splitlines()[-1])
    assert "已豁免 [" in chinese.stdout  # weihai has a waived failure


def test_a_failure_in_chinese_names_the_rule_and_how_to_fix_it():
    done = run_cli("check", REPO / "scenarios/chuxiong/faults/firewall-hole.yaml", "--lang", "zh")
    assert done.returncode == 1
    assert "不通过 [严重] EGOV-LI-1" in done.stdout
    assert "规则: 从互联网只能访问公开服务" in done.stdout and "[中办发〔2002〕17号 [V]: 政务外网与互联网逻辑隔离]" in done.stdout
    assert "整改: 把放行这些数据包的防火墙规则" in done.stdout

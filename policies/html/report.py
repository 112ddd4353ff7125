"""The report a security officer signs: one self-contained HTML page, Chinese by default.

What it holds, section by section (templates in ``policies/html/templates``,
Jinja2 with its i18n extension, texts from :mod:`policies.i18n`):

1. **审核结论 / sign-off** (:mod:`.signoff`): the plan, every file it is made
   of with its SHA-256, the git commit and whether the tree is clean,
   govnet's version, the packs and rules, every rule's verdict per phase
   (pass, fail, not applicable with why, waived), the planning assumptions,
   and the block for 审核人, 单位, 日期, 签字;
2. **allowed crossings** with their approvals and the plan's approvals
   (:mod:`.allowed`);
3. **waivers** with the findings each covers;
4. **failures**, each with its evidence drawn (:mod:`.findings`);
5. **the network**: counts, and a map with pan, zoom, collapsed levels and
   filters (:mod:`.network_map`, drawn by the page's own script);
6. **capacity** (:mod:`.capacity`).

Nothing in the page is fetched: the font (:mod:`.font`), the script, the
style, the pcaps are inside it. The same inputs give the same bytes: the
date is :func:`policies.waivers.today` (``SOURCE_DATE_EPOCH`` when set),
every list has a fixed order, nothing reads a clock.

    >>> import pathlib, tempfile
    >>> from topology import load_plan
    >>> from policies.loader import select_policies
    >>> plan = pathlib.Path(tempfile.mkdtemp()) / "plan.yaml"
    >>> _ = plan.write_text('''
    ... name: 示例县电子政务外网
    ... domains: {政务外网: {kind: extranet, pool: 10.1.0.0/16}, 互联网: {kind: internet, pool: 198.51.100.0/24}}
    ... sites: {示例县: {level: county}}
    ... nodes:
    ...   县核心: {role: core_router, domain: 政务外网, site: 示例县}
    ...   防火墙: {role: firewall, domain: 政务外网, site: 示例县}
    ...   互联网: {role: cloud, domain: 互联网, site: 示例县}
    ... links: [县核心 -- 防火墙, {a: 防火墙, b: 互联网, medium: internet, domain: 互联网}]
    ... ''', encoding="utf-8")
    >>> small = load_plan(plan)
    >>> html = report_html(small, select_policies(small), ReportOptions(lang="zh"))
    >>> html.startswith("<!DOCTYPE html>"), "审核结论" in html, "https://" in html.split("<script")[0]
    (True, True, False)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from simulator.background import Background
from simulator.forwarding import build_forwarding
from topology.files import shown
from topology.model import Network

from ..engine import CheckRun, in_rule_order, judge_rules, phase_views, split_apart
from ..i18n import check_language, rule_text, translate
from ..loader import PolicySelection
from ..model import PolicyRule, RuleResult
from ..registry import Context
from ..setup import CheckSetup, prepare_check
from . import allowed, findings, network_map, signoff
from .capacity import capacity_section
from .font import FAMILY, font_data_url
from .source import SourceLines

FONT_SLOT = "govnet-font-slot"
STATIC = ("report.css", "report.js")


@dataclass(frozen=True)
class ReportOptions:
    """How to report: the language, which phase (``all``: each on its own; None: the whole plan), the severity at
    which a failure blocks, and govnet's version to name on the sign-off page."""

    lang: str = "zh"
    phase: str | None = "all"
    fail_on: str = "high"
    version: str = "0"


@dataclass(frozen=True)
class CheckedPlan:
    """The check behind a report: one run per network state, with the state and the context its rules shared."""

    setup: CheckSetup
    runs: tuple[CheckRun, ...]
    views: tuple[tuple[str | None, Network], ...]
    contexts: tuple[Context, ...]
    crossings: list[dict[str, Any]]
    approvals: list[dict[str, Any]]


def check_for_report(net: Network, selection: PolicySelection, phase: str | None) -> CheckedPlan:
    """:func:`policies.engine.check_plan`, keeping each network state and the context its rules shared, so the
    report reuses what the rules computed (the failure sweep).

    As :func:`policies.engine.check_network` does, the rules of kinds registered ``apart`` (the approval rule
    among them, whose work is the crossings) are judged in a forked child
    (:class:`simulator.background.Background`), which also gathers the crossing and approval rows, while this
    process judges the others; the results are put back in the order of the rules.
    """
    setup = prepare_check(net, selection)
    views = phase_views(net, phase)
    rules = list(setup.rules)
    here, apart = split_apart(rules)
    for _, view in views:
        build_forwarding(view)  # before the child is forked: both sides use it
    part = Background(crossing_part, net, views, setup, apart)
    try:
        runs, contexts, judged = [], [], []
        for _, view in views:
            context = Context()
            judged.append(judge_rules(view, here, context, setup))
            contexts.append(context)
        found = part.result()
    finally:
        part.close()
    for (phase_name, _), mine, theirs in zip(views, judged, found.results):
        results = tuple(in_rule_order(rules, mine, theirs))
        runs.append(CheckRun(net.file, net.name, phase_name, setup.selection.names, results, setup.selection.added,
                             setup.selection.declined, setup.unused_waivers))
    return CheckedPlan(setup, tuple(runs), tuple(views), tuple(contexts), found.crossings, found.approvals)


@dataclass(frozen=True)
class CrossingPart:
    """What the child of a report gives back: per network state the results of the rules judged apart (in rule
    order), the crossing rows and the approval rows (plain data: it travels back from a child process)."""

    results: tuple[list[RuleResult], ...]
    crossings: list[dict[str, Any]]
    approvals: list[dict[str, Any]]


def crossing_part(net: Network, views: list[tuple[str | None, Network]], setup: CheckSetup,
                  rules: list[PolicyRule]) -> CrossingPart:
    """``rules`` judged on every state of ``views`` (one context per state), and the crossing and approval rows."""
    results = tuple(judge_rules(view, rules, Context(), setup) for _, view in views)
    lines = SourceLines()
    return CrossingPart(results, allowed.crossing_rows(views, setup.rules, lines),
                        allowed.approval_rows(net, views, lines))


def report_data(net: Network, selection: PolicySelection, options: ReportOptions) -> dict[str, Any]:
    """Everything the page shows, as plain data in a fixed order."""
    lang = check_language(options.lang)
    checked = check_for_report(net, selection, options.phase)
    runs = list(checked.runs)
    views = list(checked.views)
    lines = SourceLines()
    files = signoff.plan_files(net.sources or (net.file,), checked.setup.selection.policies)
    tree = signoff.tree_state([net.file, *net.sources[1:]])
    last_phase, last_view = views[-1]
    day = checked.setup.today
    return {
        "lang": lang,
        "plan": {"name": net.name, "title": net.title or "", "file": shown(net.file)},
        "version": options.version,
        "date": day.isoformat(),
        "fail_on": options.fail_on,
        "files": files,
        "tree": None if tree is None else {"commit": tree.commit, "clean": tree.clean, "changed": list(tree.changed)},
        "packs": signoff.pack_rows(checked.setup.selection.policies),
        "added": [{"pack": a.pack, "reasons": list(a.reasons)} for a in checked.setup.selection.added],
        "declined": [{"pack": d.pack, "reason": d.reason} for d in checked.setup.selection.declined],
        "phases": [run.phase for run in runs],
        "verdicts": signoff.verdict_table(runs, lang),
        "conclusion": signoff.conclusion(runs, options.fail_on),
        "counts": _status_counts(runs),
        "assumptions": list(net.assumptions),
        "crossings": checked.crossings,
        "approvals": checked.approvals,
        "waivers": allowed.waiver_rows(net, runs, day, lines),
        "findings": findings.findings(runs, dict(views), lang, lines),
        "network": network_map.counts(net),
        "map": network_map.map_data(net),
        "capacity": capacity_section(last_view, checked.runs[-1].results, checked.contexts[-1]),
        "capacity_phase": last_phase,
        "rule_titles": {r.id: rule_text(r, "title", lang) or r.id for r in checked.setup.rules},
    }


def _status_counts(runs: list[CheckRun]) -> dict[str, int]:
    out = {"pass": 0, "fail": 0, "not_applicable": 0, "waived": 0}
    for run in runs:
        for r in run.results:
            out[r.status] = out.get(r.status, 0) + 1
    return out


# -- the page ---------------------------------------------------------------------------------------

def environment(lang: str) -> Environment:
    """The Jinja2 environment of the report's templates, its texts in ``lang``."""
    env = Environment(loader=PackageLoader("policies.html", "templates"), autoescape=True,
                      undefined=StrictUndefined, extensions=["jinja2.ext.i18n"], trim_blocks=True,
                      lstrip_blocks=True, keep_trailing_newline=True)

    def gettext(message: str, **values: Any) -> str:
        return translate(lang, message, **values)

    def ngettext(singular: str, plural: str, n: int, **values: Any) -> str:
        return translate(lang, singular if n == 1 else plural, **values)

    env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters["pct"] = lambda v: f"{v * 100:.0f} %"
    env.filters["thousands"] = lambda v: f"{v:,}"
    env.filters["json"] = _json_script
    return env


def _json_script(value: Any) -> Markup:
    """``value`` as JSON safe inside a ``<script>`` element."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return Markup(text.replace("</", "<\\/").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _static(name: str) -> str:
    from importlib import resources

    return (resources.files("policies.html") / "static" / name).read_text(encoding="utf-8")


def render_html(data: dict[str, Any]) -> str:
    """The page of ``report_data`` (its texts in ``data["lang"]``), the font cut to the characters it uses."""
    env = environment(data["lang"])
    page = env.get_template("report.html.j2").render(
        data=data, font_family=FAMILY, font_url=FONT_SLOT,
        style=Markup(_static("report.css")), script=Markup(_static("report.js")))
    return page.replace(FONT_SLOT, font_data_url(page), 1)


def report_html(net: Network, selection: PolicySelection, options: ReportOptions) -> str:
    """The report of ``net`` checked with ``selection`` (see the module docstring)."""
    return render_html(report_data(net, selection, options))

"""A pytest plugin: every rule of every plan is a test item, ``plan.yaml::RULE``.

Registered through the ``pytest11`` entry point, so in a plans repository
``pytest scenarios/`` collects every plan file under the folders it is given
and makes one item per rule of the policies the plan names (plus the packs the
law requires of it, as ``govnet check`` adds them).

What is collected: a file named ``plan.yaml`` or ``*.plan.yaml`` (the ini
option ``govnet_plans``) always; any other ``*.yaml`` / ``*.yml`` file (the
ini option ``govnet_patterns``; set it empty to collect only ``govnet_plans``)
when it is a plan: its top level is a mapping with a ``name:`` and at least
one of the sections that describe a network (:data:`NETWORK_SECTIONS`:
``include:``, ``nodes:``, ``sites:``, ``links:`` ...). Only the top-level keys
are read, by a scan of the lines that start in column 0 (no YAML parse, no
includes followed). A part a plan includes never has ``name:`` (the loader
refuses it), a policy file has ``name:`` and ``rules:`` but no network
section: neither is collected. A pattern with a ``/`` is matched against the
path from the rootdir (``faults/*.yaml``), one without against the file name.

A plan with several phases is checked phase by phase (``--govnet-phase``,
default ``all``): items are then named ``RULE[phase]``. A failing rule fails
its item with the message and the evidence (and the plan lines it points at);
a failing rule below ``--govnet-fail-on`` (default ``high``) is reported as
xfail, as the command line would not block on it. A rule that does not apply
to the plan is skipped with the reason; a failure the plan's waivers cover is
an xfail ``waived: ...``. A plan, policy file or waiver that cannot be used is
a collection error with every FILE:LINE:COL problem.

A variant with a planted fault (``expect: {fail: [RULE, ...]}``) passes when
exactly those rules fail: the item of an expected rule passes when the rule
fails (whatever its severity) and fails when it passes, does not apply or is
waived, saying so and where the ``expect:`` is; every other rule is judged as
in any plan. The expectation is held on the whole plan (its last phase, what
``govnet check`` checks without ``--phase``): in an earlier phase an expected
rule that does not fail yet is skipped. An expected rule that is not among the
rules checked is a failing item of its own, named by the id.

    pytest scenarios/ --govnet-phase all -q
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from topology.vocabulary import SEVERITIES  # light: the vocabulary imports nothing

if TYPE_CHECKING:
    from _pytest._code.code import TerminalRepr  # pytest's own return type of repr_failure

    from .model import PolicyRule, RuleResult

# The plugin is loaded by every pytest session of the environment: it imports the
# topology, simulator and policy packages only once a plan is collected.
DEFAULT_PATTERNS = ["plan.yaml", "*.plan.yaml"]  # always plans, by their name
DEFAULT_SCAN_PATTERNS = ["*.yaml", "*.yml"]  # plans when their top level is a plan's
# Top-level sections that describe a network: a file with ``name:`` and one of these is a plan.
# Sections that other YAML files use too (``services``, ``defaults``, ``policies`` ...) do not count.
NETWORK_SECTIONS = frozenset({
    "include", "domain_kinds", "domains", "sites", "phases", "templates", "level_templates", "nodes",
    "links", "stars", "aggregations", "tunnels", "vrfs", "acls", "traffic",
})


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("govnet", "govnet plan checks")
    group.addoption("--govnet-phase", default="all", metavar="P",
                    help="phase to check (a phase name, 'all' for every phase, 'final' for the whole plan)")
    group.addoption("--govnet-policy", action="append", default=[], metavar="FILE|PACK",
                    help="policy file or pack to check instead of the plan's own list (repeatable)")
    group.addoption("--govnet-fail-on", default="high", choices=list(SEVERITIES),
                    help="failing rules below this severity are reported as xfail")
    group.addoption("--govnet-pcap-dir", default=None, metavar="DIR",
                    help="write the evidence packets of failing rules as pcap files into this folder")
    parser.addini("govnet_plans", type="args", default=DEFAULT_PATTERNS,
                  help="file name patterns of the files always collected as plans")
    parser.addini("govnet_patterns", type="args", default=DEFAULT_SCAN_PATTERNS,
                  help="patterns of the other YAML files collected when they are plans (a top-level name: and a "
                       "network section such as nodes: or include:); empty: only govnet_plans")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    config = parent.config
    patterns = config.getini("govnet_plans") or DEFAULT_PATTERNS
    if _matches(file_path, patterns, config.rootpath):
        return PlanFile.from_parent(parent, path=file_path)
    if _matches(file_path, config.getini("govnet_patterns"), config.rootpath) and is_plan_file(file_path):
        return PlanFile.from_parent(parent, path=file_path)
    return None


def _matches(path: Path, patterns: list[str], root: Path) -> bool:
    """A pattern without ``/`` matches the file name, one with ``/`` the path from ``root`` (or its end)."""
    rel: str | None = None
    for pattern in patterns:
        if "/" not in pattern:
            if fnmatch.fnmatch(path.name, pattern):
                return True
            continue
        if rel is None:
            try:
                rel = path.relative_to(root).as_posix()
            except ValueError:
                rel = path.as_posix()
        if fnmatch.fnmatch(rel, pattern) or fnmatch.fnmatch(rel, "*/" + pattern):
            return True
    return False


def is_plan_file(path: Path) -> bool:
    """Whether ``path`` holds a plan: a top-level ``name:`` and at least one of :data:`NETWORK_SECTIONS`."""
    keys = top_level_keys_of_file(path)
    return keys is not None and "name" in keys and not NETWORK_SECTIONS.isdisjoint(keys)


def top_level_keys_of_file(path: Path) -> dict[str, int] | None:
    try:
        text = path.read_bytes().decode("utf-8", errors="replace")
    except OSError:
        return None
    return top_level_keys(text)


_COLUMN0_LINE = re.compile(r"^[^ \t#\r\n].*", re.M)
_TOP_KEY = re.compile(r"""(?:"([^"\\\n]*)"|'([^'\n]*)'|([A-Za-z_][\w-]*))[ \t]*:(?:[ \t]|$)""")
_DOCUMENT_MARK = re.compile(r"(?:---|\.\.\.)(?:[ \t]|$)")


def top_level_keys(text: str) -> dict[str, int] | None:
    """The top-level keys of the first YAML document of ``text``, with their 1-based lines.

    None when the top level is not a mapping. A block mapping's keys are the
    lines that start in column 0 (every value of a key is indented, or a list
    starting with ``-``), so only those lines are looked at; a flow mapping
    (``{name: ...}``) is composed by PyYAML.

    >>> top_level_keys("# a plan\\nname: x\\nnodes:\\n  a: {role: host}\\n'expect':\\n  fail: [R-1]\\n")
    {'name': 2, 'nodes': 3, 'expect': 5}
    >>> top_level_keys("- a\\n- b\\n") is None, top_level_keys("nodes: {a: 1}\\n---\\nname: y\\n")
    (True, {'nodes': 1})
    """
    text = text.lstrip("\ufeff")
    keys: dict[str, int] = {}
    started = False
    line_no, pos = 1, 0
    for match in _COLUMN0_LINE.finditer(text):
        line_no += text.count("\n", pos, match.start())
        pos = match.start()
        line = match.group().rstrip("\r")
        if _DOCUMENT_MARK.match(line):
            rest = line[3:].strip()
            if started or line.startswith("..."):
                break
            if not rest or rest.startswith("#"):
                continue
            line = rest  # content on the '---' line: a flow collection or a scalar
        if not started:
            if line.startswith("%"):  # a directive
                continue
            started = True
            if line.startswith("{"):
                return _flow_keys(text)
            if line.startswith(("[", "- ", "-\t")) or line == "-":
                return None
        found = _TOP_KEY.match(line)
        if found:
            key = next(g for g in found.groups() if g is not None)
            keys.setdefault(key, line_no)
    return keys if started else None


def _flow_keys(text: str) -> dict[str, int] | None:
    import yaml

    try:
        node = next(yaml.compose_all(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)), None)
    except yaml.YAMLError:
        return None
    if not isinstance(node, yaml.MappingNode):
        return None
    return {str(k.value): k.start_mark.line + 1 for k, _ in node.value if isinstance(k, yaml.ScalarNode)}


def expect_place(sources: tuple[str, ...], fallback: str) -> str:
    """FILE:LINE of the ``expect:`` of a plan read from ``sources`` (the plan first, then its parts)."""
    from topology.files import shown

    for source in sources:
        keys = top_level_keys_of_file(Path(source))
        if keys and "expect" in keys:
            return f"{shown(source)}:{keys['expect']}"
    return fallback


class PlanLoadError(Exception):
    """A plan or its policies could not be loaded (shown as a collection error)."""


class PlanFile(pytest.File):
    """One plan: its rules, per phase, as items; the plan is loaded once and shared."""

    def collect(self) -> Iterator[pytest.Item]:
        from policies.engine import phase_views
        from policies.loader import policies_to_check
        from policies.registry import Context
        from policies.setup import prepare_check
        from topology import load_plan
        from topology.errors import GovnetError, PlanError
        from topology.files import shown

        config = self.config
        try:
            net = load_plan(self.path)
            setup = prepare_check(net, policies_to_check(net, config.getoption("govnet_policy")))
            phase = config.getoption("govnet_phase")
            views = phase_views(net, None if phase == "final" else phase)
        except PlanError as exc:
            raise PlanLoadError("\n".join(i.render() for i in exc.issues)) from None
        except GovnetError as exc:
            raise PlanLoadError(str(exc)) from None
        rules = setup.rules
        expected = tuple(dict.fromkeys(net.expect_fail)) if net.expect_fail is not None else None
        expect_at = expect_place(net.sources, f"{shown(self.path)}:1") if expected is not None else ""
        last_phase = net.phases[-1].name if net.phases else None
        several = len(views) > 1
        for phase_name, view in views:
            pcap_dir = config.getoption("govnet_pcap_dir")
            if pcap_dir is not None:
                pcap_dir = str(Path(pcap_dir) / self.path.parent.name / (phase_name if several and phase_name else ""))
            context = Context(pcap_dir=pcap_dir)
            for rule in rules:
                name = f"{rule.id}[{phase_name}]" if several else rule.id
                yield RuleItem.from_parent(self, name=name, rule=rule, net=view, context=context, check=setup,
                                           phase=phase_name if several else None,
                                           expect_at=expect_at if expected and rule.id in expected else None,
                                           whole_plan=phase_name is None or phase_name == last_phase)
        checked = [r.id for r in rules]
        for rule_id in expected or ():
            if rule_id not in checked:
                yield UnknownExpectItem.from_parent(self, name=rule_id, rule_id=rule_id, expect_at=expect_at,
                                                    checked=checked)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str | TerminalRepr:
        if isinstance(excinfo.value, PlanLoadError):
            return str(excinfo.value)
        return super().repr_failure(excinfo)


class RuleFailed(Exception):
    def __init__(self, result: RuleResult):
        super().__init__(result.message)
        self.result = result


class ExpectationNotMet(Exception):
    """A rule the plan's ``expect:`` says must fail did not (the message says what it did)."""


_OUTCOME = {"pass": "passed", "not_applicable": "was not applicable", "waived": "was waived"}


class RuleItem(pytest.Item):
    def __init__(self, *, rule: PolicyRule, net: Any, context: Any, check: Any, phase: str | None,
                 expect_at: str | None = None, whole_plan: bool = True, **kwargs: Any):
        super().__init__(**kwargs)
        self.rule = rule
        self.net = net
        self.context = context
        self.check = check  # the checked setup: waivers and the day they are judged on
        self.phase = phase
        self.expect_at = expect_at  # FILE:LINE of the expect: that names this rule, when it does
        self.whole_plan = whole_plan  # the view is the whole plan (its last phase): expectations hold here
        self.add_marker(pytest.mark.govnet)
        self.user_properties.append(("severity", rule.severity))
        self.user_properties.append(("kind", rule.kind))
        if expect_at is not None:
            self.user_properties.append(("expected", "fail"))

    def runtest(self) -> None:
        from policies.engine import judge

        result = judge(self.net, self.rule, self.context, self.check)
        if self.expect_at is not None:
            self._expected_to_fail(result)
            return
        if result.not_applicable_:
            pytest.skip(f"{self.rule.id} not applicable: {result.message}")
        if result.waived_:
            pytest.xfail(f"waived: {result.message}")
        if not result.failed_:
            return
        floor = SEVERITIES.index(self.config.getoption("govnet_fail_on"))
        if self.rule.severity_rank() < floor:
            pytest.xfail(f"{self.rule.severity} rule failed (below --govnet-fail-on): {result.message}")
        raise RuleFailed(result)

    def _expected_to_fail(self, result: RuleResult) -> None:
        """An expected rule: its failure is the pass; anything else fails the item (skipped before the last phase)."""
        if result.failed_:
            return
        what = f"{self.rule.id} was expected to fail (expect: in {self.expect_at})"
        outcome = _OUTCOME.get(result.status, result.status)
        if not self.whole_plan:
            pytest.skip(f"{what}: in phase {self.phase} it {outcome} (the expectation is held on the plan's last phase)")
        at = f" in phase {self.phase}" if self.phase is not None else ""
        raise ExpectationNotMet(f"{what} but {outcome}{at}: {result.message}")

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str | TerminalRepr:
        if isinstance(excinfo.value, RuleFailed):
            from policies.report import failure_text

            result = excinfo.value.result
            head = f"[{result.rule.severity}] {result.rule.id} ({result.rule.kind})"
            if self.phase is not None:
                head += f" in phase {self.phase}"
            return f"{head}: {failure_text(result)}"
        if isinstance(excinfo.value, ExpectationNotMet):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, self.name


class UnknownExpectItem(pytest.Item):
    """An ``expect: fail:`` entry naming a rule that is not checked: a failing item at the ``expect:``."""

    def __init__(self, *, rule_id: str, expect_at: str, checked: list[str], **kwargs: Any):
        super().__init__(**kwargs)
        self.rule_id = rule_id
        self.expect_at = expect_at
        self.checked = checked
        self.add_marker(pytest.mark.govnet)

    def runtest(self) -> None:
        import difflib

        close = difflib.get_close_matches(self.rule_id, self.checked, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise ExpectationNotMet(f"{self.rule_id} was expected to fail (expect: in {self.expect_at}) "
                                f"but is not among the rules checked (the plan's policies and the packs the law "
                                f"requires){hint}")

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str | TerminalRepr:
        if isinstance(excinfo.value, ExpectationNotMet):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, self.name


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "govnet: a govnet policy rule checked on a plan")

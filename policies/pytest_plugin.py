"""A pytest plugin: every rule of every plan is a test item, ``plan.yaml::RULE``.

Registered through the ``pytest11`` entry point, so in a plans repository
``pytest scenarios/`` collects each plan file (``plan.yaml`` or
``*.plan.yaml``; more patterns with the ``govnet_plans`` ini option) and
makes one item per rule of the policies the plan names (plus the packs the
law requires of it, as ``govnet check`` adds them). A plan with several
phases is checked phase by phase (``--govnet-phase``, default ``all``): items
are then named ``RULE[phase]``. A failing rule fails its item with the
message and the evidence (and the plan lines it points at); a failing rule
below ``--govnet-fail-on`` (default ``high``) is reported as xfail, as the
command line would not block on it. A rule that does not apply to the plan
is skipped with the reason; a failure the plan's waivers cover is an xfail
``waived: ...``. A plan, policy file or waiver that cannot be used is a
collection error with every FILE:LINE:COL problem.

    pytest scenarios/ --govnet-phase all -q
"""

from __future__ import annotations

import fnmatch
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
DEFAULT_PATTERNS = ["plan.yaml", "*.plan.yaml"]


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
                  help="file name patterns of the plans to collect")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    patterns = parent.config.getini("govnet_plans") or DEFAULT_PATTERNS
    if any(fnmatch.fnmatch(file_path.name, p) for p in patterns):
        return PlanFile.from_parent(parent, path=file_path)
    return None


class PlanLoadError(Exception):
    """A plan or its policies could not be loaded (shown as a collection error)."""


class PlanFile(pytest.File):
    """One plan: its rules, per phase, as items; the plan is loaded once and shared."""

    def collect(self) -> Iterator[pytest.Item]:
        from policies.engine import phase_views, prepare_check
        from policies.loader import policies_to_check
        from policies.registry import Context
        from topology import load_plan
        from topology.errors import GovnetError, PlanError

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
        several = len(views) > 1
        for phase_name, view in views:
            pcap_dir = config.getoption("govnet_pcap_dir")
            if pcap_dir is not None:
                pcap_dir = str(Path(pcap_dir) / self.path.parent.name / (phase_name if several and phase_name else ""))
            context = Context(pcap_dir=pcap_dir)
            for rule in rules:
                name = f"{rule.id}[{phase_name}]" if several else rule.id
                yield RuleItem.from_parent(self, name=name, rule=rule, net=view, context=context, check=setup,
                                           phase=phase_name if several else None)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str | TerminalRepr:
        if isinstance(excinfo.value, PlanLoadError):
            return str(excinfo.value)
        return super().repr_failure(excinfo)


class RuleFailed(Exception):
    def __init__(self, result: RuleResult):
        super().__init__(result.message)
        self.result = result


class RuleItem(pytest.Item):
    def __init__(self, *, rule: PolicyRule, net: Any, context: Any, check: Any, phase: str | None, **kwargs: Any):
        super().__init__(**kwargs)
        self.rule = rule
        self.net = net
        self.context = context
        self.check = check  # the checked setup: waivers and the day they are judged on
        self.phase = phase
        self.add_marker(pytest.mark.govnet)
        self.user_properties.append(("severity", rule.severity))
        self.user_properties.append(("kind", rule.kind))

    def runtest(self) -> None:
        from policies.engine import judge

        result = judge(self.net, self.rule, self.context, self.check)
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

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str | TerminalRepr:
        if isinstance(excinfo.value, RuleFailed):
            from policies.report import failure_text

            result = excinfo.value.result
            head = f"[{result.rule.severity}] {result.rule.id} ({result.rule.kind})"
            if self.phase is not None:
                head += f" in phase {self.phase}"
            return f"{head}: {failure_text(result)}"
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, self.name


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "govnet: a govnet policy rule checked on a plan")

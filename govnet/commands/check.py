"""``govnet check``: the verdict of every policy rule on a plan, with evidence.

The packs the law requires of the plan are checked whatever ``policies:``
or ``--policy`` names (a classified plan always passes ``classified``).
``--lang zh`` writes the text report's own words (statuses, headings, the
summary, rule descriptions and fix hints) in Chinese. ``--format github`` and
``--format gitlab`` annotate a CI run (:mod:`policies.ci_formats`).

Exit status: 0 when no rule at or above ``--fail-on`` fails (a waived failure
does not count), 1 when one does, 2 on input errors (a bad plan, policy file,
pack name, phase, domain selector or waiver).
"""

from __future__ import annotations

from pathlib import Path

import click

from policies.ci_formats import CI_FORMATS, ci_report
from policies.engine import CheckRun, blocking, check_plan
from policies.i18n import LANGUAGES
from policies.loader import policies_to_check
from policies.model import SEVERITIES
from policies.recheck import Rechecker, RecheckStats
from policies.report import render
from topology import Network, default_plan_path

from .. import __version__
from ..output import emit
from ..watch import watch as watch_plan
from .common import inputs_of, load, make_folder, plan_argument, refuse_outputs


@click.command()
@plan_argument()
@click.option("--policy", "policy_names", multiple=True, metavar="FILE|PACK",
              help="policy file or built-in pack (repeatable); replaces the plan's own 'policies:' list")
@click.option("--phase", default=None, metavar="P",
              help="check the plan as built up to phase P; 'all' checks every phase on its own")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "junit", "sarif", *CI_FORMATS]), default="text",
              show_default=True, help="text for people; json, junit, sarif for tools; github (workflow commands) and "
                                      "gitlab (Code Quality JSON) for CI annotations")
@click.option("-o", "--output", default=None, help="write the report to this file instead of stdout")
@click.option("--fail-on", type=click.Choice(list(reversed(SEVERITIES))), default="high", show_default=True,
              help="exit 1 when a rule of this severity or above fails")
@click.option("--pcap-dir", default=None, type=click.Path(file_okay=False),
              help="write the evidence packets of failing rules as pcap files into this folder")
@click.option("--lang", type=click.Choice(list(LANGUAGES)), default="en", show_default=True,
              help="language of the text report: zh (中文) or en")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="run the rules' failure sweeps on this Dask distributed scheduler (tcp://host:8786)")
@click.option("--watch", is_flag=True,
              help="check again after every save of the plan's files, judging again only what the edit touches")
def check(plan: Path | None, policy_names: tuple[str, ...], phase: str | None, fmt: str, output: str | None,
          fail_on: str, pcap_dir: str | None, lang: str, scheduler: str | None, watch: bool) -> None:
    """Check a plan against its policies: a verdict per rule, with evidence."""
    if watch:
        if pcap_dir is not None:
            raise click.BadParameter("--watch writes no pcaps; check once with --pcap-dir", param_hint="--pcap-dir")
        _watch(plan, policy_names, phase, fmt, output, fail_on, lang, scheduler)
        return
    net = load(plan)
    policies = policies_to_check(net, policy_names)
    inputs = inputs_of(net, policies.policies)
    refuse_outputs(inputs, output)
    if pcap_dir is not None:
        make_folder(pcap_dir)
    runs = check_plan(net, policies, phase, pcap_dir, scheduler=scheduler)
    text = ci_report(runs, fmt, fail_on) if fmt in CI_FORMATS else render(runs, fmt, fail_on, __version__, lang)
    emit(text, output, inputs)
    if any(blocking(run.results, fail_on) for run in runs):
        click.get_current_context().exit(1)


def _watch(plan: Path | None, policy_names: tuple[str, ...], phase: str | None, fmt: str, output: str | None,
           fail_on: str, lang: str, scheduler: str | None) -> None:
    def inputs(net: Network) -> tuple[str, ...]:
        found = inputs_of(net, policies_to_check(net, policy_names).policies)
        refuse_outputs(found, output)
        return found

    def show(runs: list[CheckRun], stats: RecheckStats) -> bool:
        text = ci_report(runs, fmt, fail_on) if fmt in CI_FORMATS else render(runs, fmt, fail_on, __version__, lang)
        emit(text, output)
        return any(blocking(run.results, fail_on) for run in runs)

    path = plan if plan is not None else default_plan_path()
    if watch_plan(path, lambda: load(plan), inputs, Rechecker(policy_names, phase, scheduler=scheduler), show):
        click.get_current_context().exit(1)

"""``govnet report``: the report a security officer signs, as one self-contained HTML page (or its PDF).

    govnet report                                   # the default scenario, in Chinese, to report.html
    govnet report plan.yaml -o report.html --lang en --phase all
    govnet report plan.yaml -o report.pdf           # printed by headless Chromium

The page (:mod:`policies.html.report`) needs nothing from the network to be
read. The same inputs give the same bytes; its date is ``SOURCE_DATE_EPOCH``
when set.

Exit status: 0 when the report was written and no rule at or above
``--fail-on`` fails, 1 when the report was written and one does, 2 on input
errors (nothing is written).
"""

from __future__ import annotations

from pathlib import Path

import click

from policies.html import ReportOptions, render_html, report_data
from policies.html.pdf import html_to_pdf
from policies.i18n import LANGUAGES
from policies.loader import policies_to_check
from policies.model import SEVERITIES

from .. import __version__
from ..output import write_atomic
from .common import inputs_of, load, plan_argument, refuse_outputs

SUFFIXES = (".html", ".htm", ".pdf")


@click.command()
@plan_argument()
@click.option("-o", "--output", default="report.html", show_default=True, type=click.Path(path_type=Path),
              help="the report file: .html, or .pdf (printed by Chromium)")
@click.option("--lang", type=click.Choice(list(LANGUAGES)), default="zh", show_default=True,
              help="language of the report: zh (中文) or en")
@click.option("--phase", default="all", show_default=True, metavar="P|all",
              help="check each phase on its own (all) or the plan as built up to phase P")
@click.option("--policy", "policy_names", multiple=True, metavar="FILE|PACK",
              help="policy file or built-in pack (repeatable); replaces the plan's own 'policies:' list")
@click.option("--fail-on", type=click.Choice(list(reversed(SEVERITIES))), default="high", show_default=True,
              help="the severity from which a failure makes the conclusion 'fail' (and the exit status 1)")
def report(plan: Path | None, output: Path, lang: str, phase: str, policy_names: tuple[str, ...],
           fail_on: str) -> None:
    """Write the sign-off report: verdicts, crossings and approvals, waivers, evidence, map, capacity."""
    if output.suffix.lower() not in SUFFIXES:
        raise click.BadParameter(f"cannot write a report to {output}: use a .html or .pdf file", param_hint="-o")
    net = load(plan)
    selection = policies_to_check(net, policy_names)
    inputs = inputs_of(net, selection.policies)
    refuse_outputs(inputs, output)
    options = ReportOptions(lang=lang, phase=phase, fail_on=fail_on, version=__version__)
    data = report_data(net, selection, options)
    html = render_html(data)
    body = html_to_pdf(html) if output.suffix.lower() == ".pdf" else html.encode("utf-8")
    write_atomic(output, body, inputs)
    if data["conclusion"] == "fail":
        click.get_current_context().exit(1)

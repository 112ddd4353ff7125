"""The ``govnet`` command: a click group whose commands live in ``govnet.commands``.

Errors of the project's own types are turned into messages here and nowhere
else: a :class:`topology.PlanError` prints one ``FILE:LINE:COL: error: ...``
line per issue on stderr and exits 2; any other :class:`topology.GovnetError`
prints ``govnet: error: ...`` and exits 2.
"""

from __future__ import annotations

import importlib
import sys

import click

from topology.errors import GovnetError, PlanError

from . import __version__
from .commands import COMMANDS


class _Group(click.Group):
    """Loads each command's module on first use and turns project errors into messages."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attr, _ = COMMANDS[name]
        return getattr(importlib.import_module(f"govnet.commands.{module}"), attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, help_) for name, (_, _, help_) in COMMANDS.items()])

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except PlanError as exc:
            for issue in exc.issues:
                click.echo(issue.render(), err=True)
            click.echo(f"govnet: {len(exc.issues)} error(s); nothing was written", err=True)
            ctx.exit(2)
        except GovnetError as exc:
            click.echo(f"govnet: error: {exc}", err=True)
            ctx.exit(2)
        except RecursionError:
            click.echo("govnet: error: the plan nests too deeply to process", err=True)
            ctx.exit(2)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="govnet")
def cli() -> None:
    """Plan e-government networks and prove them compliant before rollout."""


def main() -> None:
    """Console-script entry point (exit 2 on usage errors, as click does)."""
    sys.exit(cli.main(standalone_mode=True))

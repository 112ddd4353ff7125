"""The ``govnet`` command: a click group whose commands live in ``govnet.commands``.

Exit codes mean one thing each:

- 0: compliant, delivered, done;
- 1: a finding (a rule fails, a packet is dropped);
- 2: bad input or usage: a :class:`topology.PlanError` prints one
  ``FILE:LINE:COL: error: ...`` line per issue on stderr, any other
  :class:`topology.GovnetError` prints ``govnet: error: ...``; nothing is written;
- 3: an internal error (a bug of govnet): a short message naming the version
  and asking for a report; the traceback only with ``--debug``;
- 130: interrupted (Ctrl-C); nothing is written.

Errors are turned into messages here and nowhere else.
"""

from __future__ import annotations

import importlib
import sys
import traceback

import click

from topology.errors import GovnetError, PlanError

from . import __version__
from .commands import COMMANDS
from .output import error_text, printable


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

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except PlanError as exc:
            _error(error_text(exc))
            click.echo(f"govnet: {len(exc.issues)} error(s); nothing was written", err=True)
            ctx.exit(2)
        except GovnetError as exc:
            _error(error_text(exc))
            ctx.exit(2)
        except RecursionError:
            click.echo("govnet: error: the plan nests too deeply to process", err=True)
            ctx.exit(2)


EXIT_INTERNAL = 3
EXIT_INTERRUPTED = 130


def _error(text: str) -> None:
    """Write a message to stderr, its control characters (echoed from a file or an argument) made visible."""
    click.echo(printable(text), err=True)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="govnet")
@click.option("--debug", is_flag=True, help="show the traceback of an internal error")
def cli(debug: bool) -> None:
    """Plan e-government networks and prove them compliant before rollout."""


def run(args: list[str]) -> int:
    """Run ``govnet ARGS`` and return its exit code (see the module docstring)."""
    try:
        value = cli.main(args=args, prog_name="govnet", standalone_mode=False)
        return value if isinstance(value, int) else 0
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("govnet: interrupted; nothing was written", err=True)
        return EXIT_INTERRUPTED
    except click.ClickException as exc:
        exc.show()
        return 2
    except GovnetError as exc:
        _error(error_text(exc))
        return 2
    except KeyboardInterrupt:
        click.echo("govnet: interrupted; nothing was written", err=True)
        return EXIT_INTERRUPTED
    except Exception as exc:
        if "--debug" in args:
            traceback.print_exc()
        hint = "" if "--debug" in args else " and the output of the same command with --debug"
        _error(f"govnet {__version__}: internal error ({type(exc).__name__}: {exc}). This is a bug of govnet; "
               f"please report it with the command you ran{hint}")
        return EXIT_INTERNAL


def main() -> None:
    """Console-script entry point."""
    sys.exit(run(sys.argv[1:]))

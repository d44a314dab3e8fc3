"""The command line: one module per command, each its click declaration and its body.

``flags`` declares the options commands share (from the table in ``loadtool.options``),
``deliver`` how results reach the user (formats, files, the exit code). This module is the group: it registers the
commands and turns what escapes them into exit codes — a usage error (raised where
input is parsed) is one line and exit 2; anything else is a bug, reported as an internal
error (exit 3) with its traceback kept in a file, never as "usage".

Heavy libraries (aiohttp, requests, rich) are imported only inside command bodies, so
``loadtool --help`` answers at once.
"""

from __future__ import annotations

import importlib
import os
import sys

import click

from .. import __version__, speedups
from ..engines.cas import defer_aiohttp_cas
from ..errors import UsageError
from ..names import EXIT_FAILED, EXIT_SIGINT, EXIT_SIGTERM, EXIT_USAGE, EXIT_WORKER_LOST
from ..system import LEFT_BEHIND, exit_now
from .flags import CONTEXT, GroupedCommand

#: Set to 1 to print an internal error's traceback on stderr instead of into a file.
DEBUG_VARIABLE = "LOADTOOL_DEBUG"
#: The commands, each the ``command`` of the module of its name here: imported when it runs,
#: or when --help lists them (the nine a run does not need cost its start-up 5%).
COMMANDS = ("compare", "crawl", "fetch", "files", "plan", "read", "run", "schema", "serve", "sweep")


class Loadtool(click.Group):
    """The command group: every usage error one line on stderr and exit 2; a bug exit 3."""

    command_class = GroupedCommand

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*COMMANDS, *sorted(set(self.commands) - set(COMMANDS))]

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in COMMANDS:
            return importlib.import_module(f"{__name__}.{name}").command
        return super().get_command(ctx, name)

    def resolve_command(self, ctx: click.Context, args: list[str]):
        if args and args[0] not in COMMANDS:  # a misspelt command: click suggests one it holds, so all
            for name in COMMANDS:
                self.commands.setdefault(name, self.get_command(ctx, name))
        return super().resolve_command(ctx, args)

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx else "loadtool"
            _usage(where, args, exc.format_message(), f" (see '{where} --help')")
            code = EXIT_USAGE
        except UsageError as exc:
            _usage("loadtool", args, str(exc))
            code = EXIT_USAGE
        except click.ClickException as exc:
            exc.show()
            code = exc.exit_code
        except (click.Abort, KeyboardInterrupt):
            click.echo("loadtool: interrupted", err=True)
            code = EXIT_SIGINT
        except Exception as exc:  # noqa: BLE001 - a bug: say so in one line, keep the traceback
            internal_error(exc)
            code = EXIT_FAILED
        if not standalone_mode:
            return code
        sys.exit(code or 0)


def internal_error(exc: BaseException) -> None:
    """One line for a bug (an exception nothing expected), and where its traceback is:
    printed under LOADTOOL_DEBUG=1, else written to a file in the temporary directory."""
    import tempfile
    import traceback

    text = "".join(traceback.format_exception(exc))
    line = f"loadtool: internal error: {type(exc).__name__}: {exc}"
    if os.environ.get(DEBUG_VARIABLE):
        click.echo(text, err=True, nl=False)
        click.echo(f"{line} (a bug in loadtool: please report it)", err=True)
        return
    try:
        with tempfile.NamedTemporaryFile("w", prefix="loadtool-error-", suffix=".txt", delete=False) as log:
            log.write(text)
        where = f"the traceback is in {log.name}"
    except OSError:
        where = f"{DEBUG_VARIABLE}=1 prints the traceback"
    click.echo(f"{line} (a bug in loadtool: please report it; {where})", err=True)


def _usage(where: str, args, message: str, see: str = "") -> None:
    """A usage error on stderr: one line, or — when a habit from hey, oha, wrk2, vegeta or
    k6 explains it — the hint first (what to type instead), then what went wrong."""
    from .hints import habit_hint

    hint = habit_hint(sys.argv[1:] if args is None else args, message)
    if hint:
        click.echo(f"{where}: error: {hint}", err=True)
        click.echo(f"  (as typed: {message})", err=True)
    else:
        click.echo(f"{where}: error: {message}{see}", err=True)


@click.group(cls=Loadtool, context_settings=CONTEXT)
@click.version_option(__version__, "-V", "--version", prog_name="loadtool",
                      message=f"%(prog)s %(version)s ({speedups.describe()})")
def cli() -> None:
    """Measure blocking I/O at scale: fetch URLs or read files sequentially, with threads,
    with processes or with asyncio, and report latency percentiles, throughput and errors.

    With no URL, `loadtool fetch` starts its own fixture server on 127.0.0.1, so

        loadtool fetch --strategy async --count 1010

    works on any machine, with no network.
    """


def main() -> None:
    """Console-script entry point. After an interrupted run, one that abandoned operations in
    flight, or one that lost a worker process, it exits at once: the report is out, and a
    thread still blocked in a request would otherwise hold the exit until its --timeout (and
    a broken pool's leftovers would print their own failures at exit)."""
    defer_aiohttp_cas()  # the system's CAs when a run first speaks https, not at aiohttp's import
    code = cli.main(prog_name="loadtool", standalone_mode=False)
    if code in (EXIT_SIGINT, EXIT_SIGTERM, EXIT_WORKER_LOST) or LEFT_BEHIND.is_set():
        exit_now(code)
    sys.exit(code or 0)

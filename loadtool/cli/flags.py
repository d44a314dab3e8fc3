"""The click declarations of the options commands share, made from the table of options.

Every option a run takes is declared once, in ``loadtool.options`` (its flags, default,
unit, help and the commands that take it); ``options_for(command)`` declares the ones a
command takes, under their headings in --help (``GroupedCommand``). Where an option reads
differently for fetching, reading files or crawling, the table holds a help text per
variant. A command's own options (crawl's --max-depth, sweep's levels) are declared in its
module, with ``group``.
"""

from __future__ import annotations

from collections.abc import Callable

import click

from ..options import OPTIONS, Option, only, taken_by

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _options(*decorators: Callable) -> Callable:
    def apply(func: Callable) -> Callable:
        for decorator in reversed(decorators):
            func = decorator(func)
        return func
    return apply


def group(title: str, *decorators: Callable) -> Callable:
    """Options shown under the heading ``title`` in --help (GroupedCommand draws them).

    cloup does this too, and did here for a while; but importing it (it reads click's
    version from the installed distributions at import) took `loadtool --help` from 29 ms
    to 61 ms of imports, and this is click's own help formatter, one section per group."""
    def apply(func: Callable) -> Callable:
        before = len(getattr(func, "__click_params__", ()))
        func = _options(*decorators)(func)
        for param in func.__click_params__[before:]:
            if not hasattr(param, "help_group"):
                param.help_group = title
        return func
    return apply


class GroupedCommand(click.Command):
    """A command whose --help lists its options by group, in the order they are declared."""

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        sections: dict[str, list[tuple[str, str]]] = {}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx) if isinstance(param, click.Option) else None
            if record is not None:
                sections.setdefault(getattr(param, "help_group", "Other options"), []).append(record)
        if list(sections) == ["Other options"]:  # a command with no groups: click's own heading
            sections = {"Options": sections["Other options"]}
        for title, records in sections.items():
            with formatter.section(title):
                formatter.write_dl(records)


def grouped_command(name: str) -> Callable:
    """Declare the command ``name``, its options listed by group in --help."""
    return click.command(name, cls=GroupedCommand, context_settings=CONTEXT)


#: What a heading says in compare and sweep when its options apply to one kind of job only.
ONLY = {"fetch": " (not with --read)", "read": " (with --read)"}


def declare(option: Option, command: str, **overrides) -> Callable:
    """The click declaration of ``option`` as ``command`` takes it (``overrides``: click's
    keywords that differ for this command)."""
    kwargs = {"help": option.help_for(command)}
    if option.choices is not None:
        kwargs["type"] = click.Choice(option.choices)
    if option.default is not None:
        kwargs.update(default=option.default, show_default=True)
    if option.metavar is not None:
        kwargs["metavar"] = option.metavar
    if option.repeat:
        kwargs["multiple"] = True
    if option.switch and "/" not in option.flags[0]:
        kwargs["is_flag"] = True
    elif option.switch:  # --x/--no-x: click makes an unset pair False; None here means "not said"
        kwargs["default"] = option.default
    kwargs.update(overrides)
    return click.option(*option.flags, option.name, **kwargs)


def options_for(command: str) -> Callable:
    """Every option of the table that ``command`` takes, each under its heading."""
    headings: dict[str, list[Callable]] = {}
    for option in taken_by(command):
        heading = option.group + (ONLY[option.only] if option.only and command in ("compare", "sweep") else "")
        headings.setdefault(heading, []).append(declare(option, command))
    return _options(*(group(heading, *declared) for heading, declared in headings.items()))


def option(name: str, command: str, **overrides) -> Callable:
    """The table's option ``name`` as ``command`` takes it, for a command's own heading."""
    return declare(OPTIONS[name], command, **overrides)


#: The options only fetching has, and those only reading files has: compare and sweep take
#: both kinds and drop the ones their job does not use.
FETCH_ONLY_OPTIONS = only("fetch")
READ_ONLY_OPTIONS = only("read")


def drop(options: dict, names: frozenset[str]) -> None:
    """Take the options ``names`` out of ``options`` (those of the other kind of job)."""
    for name in names:
        options.pop(name, None)


def stdin_targets(urls: tuple[str, ...], options: dict) -> tuple[str, ...]:
    """The URLs to fetch, reading standard input where it holds them: ``-`` as the URL, or
    nothing named at all (no URL, -f or --targets) while something is piped in. A list of
    URLs is read as -f -, requests written as vegeta writes them (``GET http://…``) as
    --targets -; stderr says so, so a piped list never goes unnoticed."""
    from ..targets import looks_like_requests, spool_stdin, stdin_piped

    named = urls or options.get("urls_file") or options.get("targets_file")
    if urls != ("-",) and (named or not stdin_piped()):
        return urls
    requests = looks_like_requests(spool_stdin())
    options["targets_file" if requests else "urls_file"] = "-"
    click.echo(f"loadtool: {'requests' if requests else 'URLs'} from standard input", err=True)
    return ()


def experiment_job(targets, read_files: bool, body, headers, verify, options: dict):
    """The Job of compare and sweep: fetch TARGETS (default /delay/50), or with --read, read
    them, or run an operation of the user's own (FILE.py:NAME); the other kinds' options are
    dropped."""
    from ..plan.experiments import COMPARE_PATH
    from ..job import Job
    from ..job.parse import body_from
    from ..targets.operation import is_operation

    if targets and len(targets) == 1 and is_operation(targets[0]):  # sweep FILE.py:NAME
        drop(options, (FETCH_ONLY_OPTIONS | READ_ONLY_OPTIONS) - {"server", "fixture"})
        options.pop("engine", None)
        return Job.build(kind="run", operation=targets[0], **options)
    if read_files:
        drop(options, FETCH_ONLY_OPTIONS)
        return Job.build(kind="read", paths=targets, verify=verify is not None, **options)
    drop(options, READ_ONLY_OPTIONS)
    targets = stdin_targets(tuple(targets), options)
    default = () if options.get("targets_file") or options.get("urls_file") else (COMPARE_PATH,)
    return Job.build(kind="fetch", urls=targets or default, headers=headers,
                     body=body_from(body, options["max_body"]), **options)

"""loadtool plan: size a real scraping job from a short pilot, or check a run against a plan."""

from __future__ import annotations

import shutil
import sys
import time
from typing import Any

import click

from ..names import EXIT_OK, EXIT_THRESHOLD, PLAN_FORMATS, PROFILE_NAMES
from ..system import cpu_count
from ..options import default
from .flags import grouped_command

#: The plan's title says how long the pilot took when that was over half as long again as
#: --pilot (a short pilot: each capacity level and each way runs at least plan.SWEEP_STEP_S).
PILOT_OVERRUN = 1.5


@grouped_command("plan")
@click.argument("urls", nargs=-1, metavar="[URL|/PATH]...")
@click.option("--urls-file", "-f", metavar="FILE", help="Pilot against the URLs in FILE ('-' reads stdin).")
@click.option("--pages", "--count", "pages", metavar="N",
              help="Pages the real job will fetch (10M, 250k); for an operation of your own (FILE.py:NAME), "
                   "the operations it will do.")
@click.option("--fixture", is_flag=True,
              help="With FILE.py:NAME: start the bundled fixture server for the pilot and tell the operation of it "
                   "(LOADTOOL_SERVER), as loadtool run --fixture does.")
@click.option("--server", metavar="URL", help="With FILE.py:NAME: tell the operation of the server at URL.")
@click.option("--deadline", metavar="TIME", help="When the job must be done (2h, 30m); sizes the machines.")
@click.option("--hosts", metavar="N", help="Distinct hosts the pages spread over (for politeness).")
@click.option("--per-host", metavar="N", help="Politeness: at most N requests in flight per host.")
@click.option("--per-host-rate", "--host-rate", "host_rate", metavar="R",
              help="Politeness: at most R requests started per host, e.g. 5/s.")
@click.option("--insecure", "-k", is_flag=True, help="Do not verify the pilot's servers' TLS certificates.")
@click.option("--cacert", metavar="FILE", help="Trust the CA certificates in FILE (PEM) for the pilot's https.")
@click.option("--no-compression", is_flag=True,
              help="Ask for answers as they are, as the real job will (see loadtool fetch --help).")
@click.option("--pilot", metavar="TIME", default="20s", show_default=True,
              help="How long the pilot measures, in all. Each level of its capacity sweep and each "
                   "way it measures runs at least 0.5s, so a short pilot can take longer (the plan "
                   "says how long it took).")
@click.option("--cores", metavar="N", help=f"Cores per machine of the real job (default: this one's, {cpu_count()}).")
@click.option("--profile", type=click.Choice(PROFILE_NAMES), default=default("profile"), show_default=True,
              help="With no URL: the fixture site's latency and size profile.")
@click.option("--check", "check_path", metavar="RESULT.json",
              help="Instead of planning: compare a finished run (loadtool fetch --format json) with --plan.")
@click.option("--plan", "plan_path", metavar="PLAN.json", help="A plan made with --format json, for --check.")
@click.option("--format", "fmt", type=click.Choice(tuple(PLAN_FORMATS)),
              help="The plan's format on stdout (or in --output). Default: from -o FILE's extension (.json), "
                   "else table.")
@click.option("--output", "-o", metavar="FILE",
              help="Write the plan in --format to FILE (FILE.json is JSON); stdout then shows the table "
                   "(unless --quiet).")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing on stdout; --output and the exit code still tell.")
@click.option("--no-progress", is_flag=True, help="No live progress line during the pilot.")
@click.option("--crawl", is_flag=True,
              help="The job is a crawl: the pilot crawls from the URLs (none: the fixture web), async then hybrid, "
                   "and plans with the CPU a page costs to fetch, find links in and --parse.")
@click.option("--parse", metavar="MODULE:FUNCTION",
              help="With --crawl: your parser, run on every page of the pilot, so its CPU is in the plan.")
def command(urls, urls_file, pages, fixture, server, deadline, hosts, per_host, host_rate, insecure, cacert,
            no_compression, pilot, cores, profile, check_path, plan_path, fmt, output, quiet, no_progress, crawl,
            parse) -> int:
    """Size a real scraping job from a short pilot run.

    The pilot measures the targets' latency and what each strategy and engine costs
    the client per page; the plan gives, for each, the concurrency needed, the expected
    throughput (Little's law, bounded by CPU and politeness), the total time with a
    p10–p90 range, memory, and machines needed to meet --deadline. With no URL the
    pilot runs against the fixture site (/site/{h}/page/{i} over --hosts hosts).

    With --check, compares a finished run with the plan instead, and exits 1 when the
    run's wall time fell outside the plan's range.
    """
    from ..job import Job
    from ..job.parse import MAX_COUNT, seconds, whole_number
    from ..strategies.sizing import Goal
    from ..targets.operation import is_operation
    from .deliver import check_paths, report_format

    if check_path:
        return check_plan(check_path, plan_path, quiet)
    fmt = report_format(fmt, output, tuple(PLAN_FORMATS))
    check_paths({"output": output})
    if pages is None:
        raise click.UsageError("--pages (--count) is needed: how many pages (operations) will the real job do?")
    if parse and not crawl:
        raise click.UsageError("--parse goes with --crawl: the pages of a fixed list are not parsed")
    host_count = whole_number("hosts", hosts, 1) if hosts else None
    if len(urls) == 1 and is_operation(urls[0]):  # an operation of the user's own
        job = Job.build(kind="run", operation=urls[0], fixture=fixture, server=server)
    else:
        job = Job.build(kind="fetch", profile=profile, per_host=per_host, host_rate=host_rate, insecure=insecure,
                        cacert=cacert, no_compression=no_compression, **_targets(urls, urls_file, host_count, crawl))
    polite = job.fetch  # None for an operation of the user's own
    goal = Goal(pages=whole_number("pages", pages, 1, MAX_COUNT), hosts=host_count,
                deadline_s=seconds("deadline", deadline) if deadline else None,
                per_host=polite and polite.per_host, host_rate=polite and polite.host_rate,
                cores=whole_number("cores", cores, 1, 4096) if cores else cpu_count())
    pilot_s = seconds("pilot", pilot)
    if not 1 <= pilot_s <= 3600:
        raise click.UsageError(f"--pilot must be between 1s and 1h, not {pilot}")
    return make_plan(job, goal, pilot_s, crawl, parse, fmt, output, quiet, not no_progress)


def _targets(urls, urls_file, hosts: int | None, crawl: bool) -> dict[str, Any]:
    """The pilot's targets: the URLs given; with none, the fixture web for a crawl, else the
    fixture site spread over the hosts the job will meet (up to 1000 distinct ones)."""
    if urls or urls_file:
        return {"urls": urls, "urls_file": urls_file}
    if crawl:
        return {"urls": ("/web/0/page/0",)}
    shown = min(hosts or 1, 1000)
    return {"urls": tuple(f"/site/{host}/page/{{i}}" for host in range(shown)) if hosts else ("/page/{i}",)}


def make_plan(job, goal, pilot_s: float, crawl: bool, parse: str | None, fmt: str, output: str | None,
              quiet: bool, progress: bool) -> int:
    """Pilot ``job``, plan ``goal`` from what it measured, and print or write the plan."""
    from ..plan import options, pilot, pilot_crawl, to_dict
    from ..report import plan as plan_report
    from ..report import report_module
    from ..units import format_duration
    from .deliver import could_not_start, print_renderable, write

    from contextlib import nullcontext

    from ..report.progress import pilot_progress

    shown = pilot_progress() if progress and not quiet and sys.stderr.isatty() else nullcontext()
    started = time.perf_counter()
    try:
        with shown as factory:
            if crawl:
                from ..crawl import Crawl, CrawlOptions

                crawl_options = CrawlOptions(max_pages=0, parse=parse)
                Crawl(crawl_options)  # a bad --parse is a usage error now, before the pilot
                measured = pilot_crawl(job, pilot_s, crawl_options, factory)
            else:
                measured = pilot(job, pilot_s, factory, goal)
    except RuntimeError as exc:
        return could_not_start(exc)
    took_s = time.perf_counter() - started
    plan = to_dict(measured, goal, options(measured, goal))
    target = job.describe()["targets"]
    where = (f"the fixture site (profile {target['profile']})" if target["kind"] == "fixture"
             else job.targets.label() if job.kind == "run" else target.get("first", target.get("path", "")))
    title = (f"loadtool plan · {goal.pages:,} {'operations' if job.kind == 'run' else 'pages'}"
             + (" (a crawl)" if crawl else "")
             + (f" · deadline {format_duration(goal.deadline_s)}" if goal.deadline_s else "")
             + f" · pilot {format_duration(pilot_s)}"
             + (f" (took {format_duration(took_s)})" if took_s > PILOT_OVERRUN * pilot_s else "")
             + f" against {where}")
    module, function = PLAN_FORMATS[fmt]
    if output:
        write(output, getattr(report_module(module), function)(plan, title))
    if not quiet and fmt != "table" and not output:
        click.echo(getattr(report_module(module), function)(plan, title), nl=False)
    elif not quiet:
        print_renderable(plan_report.plan_table(plan, title))
    return EXIT_OK


def check_plan(result_path: str, plan_path: str | None, quiet: bool = False) -> int:
    """Compare stored runs with a plan: a line each; exit 1 when any fell outside its range."""
    import json

    from ..plan import check, measured_from
    from ..report import plan as plan_report

    if not plan_path:
        raise click.UsageError("--check needs --plan PLAN.json (made with loadtool plan --format json)")
    documents = []
    for path, what in ((plan_path, "--plan"), (result_path, "--check")):
        try:
            with open(path, encoding="utf-8") as handle:
                documents.append(json.load(handle))
        except (OSError, ValueError) as exc:
            raise click.UsageError(f"{what}: cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    measured = measured_from(documents[0])
    results = documents[1] if isinstance(documents[1], list) else [documents[1]]
    outside = 0
    for result in results:
        checked = check(measured, result)
        outside += not checked.within_range
        if not quiet:
            click.echo(_on_screen(plan_report.check_text(checked)), nl=False)
    return EXIT_THRESHOLD if outside else EXIT_OK


def _on_screen(text: str) -> str:
    """A verdict broken between words on a terminal, its continuation indented (the terminal
    broke it at 80 columns inside a word: "measu" / "red 21.4s"); as it is on a pipe."""
    if not sys.stdout.isatty():
        return text
    from ..report.fit import hanging_lines

    return "\n".join(hanging_lines(text.rstrip("\n"), shutil.get_terminal_size().columns, 2)) + "\n"

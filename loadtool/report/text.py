"""Results as text for people: a readable summary, a side-by-side table, a sweep's table.

Rich renderables on a terminal; ``plain_text`` turns any of them into plain text for
pipes and files.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from .. import speedups
from ..metrics import recorded
from ..names import ENGINE_CLASSES, lean_engine
from ..units import format_bytes, format_duration, plural



def _ms(value: float | None) -> str:
    return "-" if value is None else format_duration(value / 1000)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def _target_line(result) -> str:
    return result.job.targets.label()


def _counts(counter: dict[Any, int]) -> str:
    return "  ".join(f"{key} ×{count:,}" for key, count in sorted(counter.items(), key=lambda kv: -kv[1])) or "none"


def statuses(counter: dict[int, int]) -> str:
    """Answers by status, in the order of their codes (as hey and curl list them: a run's
    statuses read the same from one run to the next)."""
    return "  ".join(f"{code} ×{count:,}" for code, count in sorted(counter.items())) or "none"


def summary_lines(result) -> list[tuple[str, str]]:
    """The summary of one run as (label, text) rows."""
    stats, job = result.stats, result.job
    latency = result.latency_ms
    ideal = ""
    if result.ideal_s:  # an ideal of 0 (no latency of its own, /health) says nothing
        ideal = f"   ideal {format_duration(result.ideal_s)}, efficiency {_pct(result.efficiency)}"
    rows = [
        ("target", _target_line(result)),
        ("wall time", f"{format_duration(result.wall_s)}{ideal}"),
        *([("cluster", f"{format_duration(result.details['startup_s'])} starting and warming its workers, "
                       f"{format_duration(result.details.get('stop_s', 0))} stopping: not in the wall time")]
          if "startup_s" in result.details else []),
        ("throughput", f"{result.throughput_ops_s:,.0f} {'pages' if 'crawl' in result.details else unit(job)}/s"
                       + ("" if job.kind == "run" else f"   {format_bytes(result.bytes_per_s)}/s"
                                                       f"   ({format_bytes(result.bytes_per_s, si=True)}/s)")),
        ("latency", "   ".join(f"{name} {_ms(latency[key])}" for name, key in
                               (("p50", "p50"), ("p75", "p75"), ("p90", "p90"), ("p95", "p95"), ("p99", "p99"),
                                ("p99.9", "p999"),
                                ("max", "max"), ("mean", "mean")))),
    ]
    if result.service_ms is not None:
        service = result.service_ms
        rows.append(("service time", f"p50 {_ms(service['p50'])}   p99 {_ms(service['p99'])}   "
                                     f"(from the actual send; latency counts from when each op was due)"))
        rows.append(("schedule", schedule_note(result)))
    ok_share = stats.ok / stats.ops if stats.ops else 0
    rows += [
        ("ok", f"{stats.ok:,} of {stats.ops:,} ({ok_share:.1%})"
               + (f", {stats.attempts - stats.ops:,} retries" if stats.attempts > stats.ops else "")),
        ("failed", failed_note(stats)),
        *([("abandoned", abandoned_note(stats.counts.abandoned))] if stats.counts.abandoned else []),
        *([("lost", lost_note(result.details))] if result.details.get("lost_workers") else []),
        *([("status", statuses(dict(stats.status)))] if job.kind == "fetch" else []),
        *([("rate limits", retry_after_note(result.details["retry_after"]))] if "retry_after" in result.details
          else []),
        *([("event loop", blocked_note(result))] if _blocked_share(result) >= BLOCKED_NOTED else []),
        *([("redirects", f"{stats.counts.elsewhere:,} redirected to another origin (their credentials left "
                         f"behind)")] if stats.counts.elsewhere else []),
        *([("encoding", encoding_note(job.fetch, stats.counts))] if job.kind == "fetch" and stats.ops else []),
        *([("protocol", _counts(stats.protocols))] if set(stats.protocols) - {"HTTP/1.1"} else []),
        *([("connections", connections_note(stats.connections))] if sum(stats.connections.values()) else []),
        *([("phases", phases_note(stats.phases_ms(), stats.ops))] if stats.phases_ms() else []),
        *([("checks", checks_note(result))] if result.checks else []),
        ("client CPU", f"{result.cpu_busy:.0%} of {plural(result.cores, 'core')}"
                       + (f"   — {saturation_advice(result)}" if result.cpu_busy >= ADVISE_FROM
                          and result.steady else "")),
    ]
    if stats.first_error and stats.failed:
        rows.append(("first error", stats.first_error))
    if result.page_cache is not None:
        rows.append(("page cache", page_cache_note(result)))
    if "cluster" in result.details:
        rows.append(("cluster", cluster_note(result.details["cluster"])))
    if "crawl" in result.details:
        rows[3:3] = crawl_rows(result.details["crawl"], result.wall_s)
    return rows


def crawl_rows(crawl: dict, wall_s: float) -> list[tuple[str, str]]:
    """What a crawl found besides its pages: links, the frontier, robots, hosts, parse CPU."""
    per_s = crawl["links_found"] / wall_s if wall_s > 0 else 0.0
    dropped = [f"{crawl['duplicates']:,} duplicates"]
    dropped += [f"{crawl.get(key, 0):,} {name}" for key, name in (("robots_blocked", "disallowed by robots.txt"),
                                                                  ("out_of_scope", "out of scope"),
                                                                  ("too_deep", "past --max-depth"),
                                                                  ("too_long", "over the URL length limit"),
                                                                  ("nofollow", "nofollow (--follow-nofollow)"))
                if crawl.get(key)]
    parse = crawl["parse_cpu_ms"]
    # On the fixture web every host shares one host:port: its /web/{h} part tells them apart.
    hosts = ", ".join(f"{host.split('/', 1)[-1]} {pages:,}"
                      for host, pages in list(crawl["top_hosts"].items())[:5])
    rows = [
        ("links", f"{crawl['links_found']:,} found ({per_s:,.0f}/s); dropped: {', '.join(dropped)}"),
        ("frontier", f"{crawl['frontier_left']:,} left, at most {crawl['frontier_peak']:,}; URLs seen kept "
                     f"{crawl['seen']}"),
        ("hosts", f"{crawl['hosts']:,} (robots.txt fetched from {crawl['robots_fetched']:,}"
                  + (f"; {crawl['hosts_forgotten']:,} idle ones forgotten" if crawl.get("hosts_forgotten") else "")
                  + f"); most pages: {hosts}"),
    ]
    if crawl.get("hosts_held_back"):
        reasons = ", ".join(f"{reason} ×{hosts}" for reason, hosts in crawl["hosts_held_back"].items())
        rows.append(("held back", f"{sum(crawl['hosts_held_back'].values()):,} hosts whose robots.txt could not be had "
                                  f"(RFC 9309: crawl nothing there), {crawl['robots_held_back']:,} pages not "
                                  f"fetched: {reasons}"))
    if crawl.get("hosts_limited"):
        rows.append(("rate limits", limits_note(crawl)))
    if crawl.get("crawl_delays_capped"):
        rows.append(("crawl delay", delays_note(crawl["crawl_delays_capped"])))
    if crawl.get("sitemaps_fetched"):
        repeated = crawl.get("sitemaps_repeated")
        rows.append(("sitemaps", f"{crawl['sitemap_urls']:,} URLs listed in {crawl['sitemaps_fetched']:,} sitemaps"
                                 + (f" ({repeated:,} listed again, read once)" if repeated else "")))
    if parse["p50"] is not None:
        rows.append(("parse CPU", f"p50 {_ms(parse['p50'])}   p99 {_ms(parse['p99'])}   mean {_ms(parse['mean'])} a page"
                                  + (f"   ({crawl['parse_errors']:,} pages the parser failed on)"
                                     if crawl["parse_errors"] else "")))
    return rows


#: From this share of the run with its event loop blocked, the report names it.
BLOCKED_NOTED = 0.1


def _blocked_share(result) -> float:
    blocked = result.details.get("loop_blocked_s")
    return blocked / result.wall_s if blocked and result.wall_s > 0 else 0.0


def blocked_note(result) -> str:
    """An event loop blocked by the operation itself: the tutorial's lesson, named."""
    return (f"blocked {min(_blocked_share(result), 1.0):.0%} of the run: a blocking call in an async operation? "
            f"(time.sleep, requests, a file read: await an async twin, or asyncio.to_thread)")


def retry_after_note(said: dict) -> str:
    """What hosts asked with their Retry-After (--retry-after), and what was taken of it."""
    taken = "" if said["longest_asked_s"] <= said["cap_s"] else f", taken as {format_duration(said['cap_s'])}"
    return (f"{plural(said['hosts'], 'host')} asked to be left alone (429 or 503 with a Retry-After): the longest "
            f"for {format_duration(said['longest_asked_s'])}{taken} (a wait is at most "
            f"{format_duration(said['cap_s'])}, and ends with the run)")


def delays_note(asked: dict[str, float]) -> str:
    """The hosts whose robots.txt asked for more Crawl-delay than is honoured."""
    from ..crawl.robots import MAX_CRAWL_DELAY_S

    named = ", ".join(f"{host.split('/', 1)[-1]} asked {asked_s:g}s" for host, asked_s in list(asked.items())[:3])
    more = f" and {len(asked) - 3} more" if len(asked) > 3 else ""
    return (f"robots.txt of {plural(len(asked), 'host')} asked for a Crawl-delay over "
            f"{format_duration(MAX_CRAWL_DELAY_S)}, taken as {format_duration(MAX_CRAWL_DELAY_S)}: {named}{more}")


def limits_note(crawl: dict) -> str:
    """The hosts that said "too many", and what the crawl did about it."""
    limited = sorted(crawl["hosts_limited"].items(), key=lambda item: -item[1]["times"])
    named = ", ".join(f"{host.split('/', 1)[-1]} ×{seen['times']} from "
                      f"{format_duration(seen['first_s'])}, waited {format_duration(seen['waited_s'])}, now a page "
                      f"every {format_duration(seen['gap_s'])}" for host, seen in limited[:3])
    more = f" and {len(limited) - 3} more" if len(limited) > 3 else ""
    return (f"{plural(len(limited), 'host')} answered 429 (or 503 with Retry-After) "
            f"{crawl['rate_limited']:,} times, each page put back: {named}{more}")


def phases_note(phases: dict, ops: int) -> str:
    """Where the time went, phase by phase (p50 / p99), with how many operations had the
    phase when not all did (a reused connection has no connect phase)."""
    parts = []
    for name, figures in phases.items():
        seen = f" ({figures['count']:,})" if figures["count"] != ops else ""
        parts.append(f"{name} {_ms(figures['p50'])} / {_ms(figures['p99'])}{seen}")
    return "p50 / p99:  " + "   ".join(parts)


def failed_note(stats) -> str:
    """The operations that were not ok: by status (answers --ok-status refuses), and by
    error kind (no answer, a broken one, a failed check) — the sets that --fail-if
    'failed' and 'errors' count."""
    if not stats.failed:
        return "none"
    parts = [f"{stats.failed:,} ({stats.failed / stats.ops:.1%})"]
    if stats.failed_status:
        parts.append("by status: " + _counts({f"{code}": n for code, n in stats.failed_status.items()}))
    if stats.errors:
        parts.append("errors: " + _counts(dict(stats.errors)))
    return "   ".join(parts)


def abandoned_note(abandoned: int) -> str:
    return (f"{abandoned:,} still in flight (or waiting for their host's turn) when the run ended (its --duration, "
            f"or a stop), dropped: in no other count")


def lost_note(details: dict) -> str:
    """The worker processes that died mid-run, and the work that never came back."""
    workers = ", ".join(f"pid {lost['pid']} ({lost['ended_by']}{', ' + lost['share'] if lost['share'] else ''})"
                        for lost in details["lost_workers"])
    unfinished = details.get("unfinished") or []
    return (f"worker {workers}; not counted: {', '.join(unfinished[:3])}"
            + (f" and {len(unfinished) - 3} more" if len(unfinished) > 3 else ""))


def encoding_note(fetch, counts) -> str:
    """What the run asked for (Accept-Encoding), and what came: compressed answers, and bytes
    on the wire against decoded."""
    from ..engines.encoding import accept_header

    asked = accept_header(fetch)
    note = "asked for " + (asked[1] if asked else "what -H says")
    undecoded = (f"; {counts.undecoded:,} came in an encoding not asked for or unknown (not decoded: counted as "
                 f"they came)") if counts.undecoded else ""
    if not counts.compressed:
        return note + ("" if undecoded else "; none came compressed") + undecoded
    ratio = counts.decoded_bytes / counts.bytes if counts.bytes else 0.0
    return (note + f"; {counts.compressed:,} of {counts.ops:,} answers came compressed: "
            f"{format_bytes(counts.bytes)} on the wire, {format_bytes(counts.decoded_bytes)} decoded ({ratio:.1f}x)"
            + undecoded)


def checks_note(result) -> str:
    """Each check's pass rate (and failures), a line each, and how much of each body the
    checks read."""
    from ..engines.checks import wanted

    lines = []
    for name, counts in result.checks.items():
        evaluated = counts["passed"] + counts["failed"]
        rate = f"{counts['passed'] / evaluated:.1%}" if evaluated else "not run"
        failed = f"  ({counts['failed']:,} failed)" if counts["failed"] else ""
        lines.append(f"{rate:<6}  {name}{failed}")  # left-aligned: a line's leading spaces would be lost
    prefix = wanted(result.job.fetch)
    if prefix:
        lines.append(f"(bodies read to their first {format_bytes(prefix)}: --check-body)")
    return "\n".join(lines)


def connections_note(connections: dict) -> str:
    """Connections opened and reused, and TLS handshakes among the opened."""
    handshakes = connections["tls_handshakes"]
    tls = f" ({handshakes:,} TLS handshake{'s' if handshakes != 1 else ''})" if handshakes else ""
    return f"{connections['new']:,} opened{tls}, {connections['reused']:,} reused"


def cluster_note(cluster: dict) -> str:
    """The cluster's workers, what each did, and anything lost or rerun."""
    done = ", ".join(f"{worker.split('://')[-1]} {ops:,}" for worker, ops in cluster["ops_by_worker"].items())
    note = f"{cluster['workers']} workers, {cluster['slices']} slices; ops by worker: {done or 'none'}"
    if cluster["lost_workers"]:
        note += (f"; lost mid-run: {', '.join(cluster['lost_workers'])} — slices {cluster['rerun_slices']} were "
                 f"rerun elsewhere (their first attempts' operations were sent twice, counted once)")
    if cluster["lost_slices"]:
        note += f"; NOT DONE: slices {[lost['slice'] for lost in cluster['lost_slices']]} ({cluster['lost_slices'][0]['error']})"
    return note


def schedule_note(result) -> str:
    """How well the client kept to --rate."""
    sent = result.sent_ops_s
    asked = f"asked {result.job.rate}" + ("" if sent is None else f", sent {sent:,.1f}/s")
    if result.kept_rate:
        return f"{asked}: kept to schedule (at most {format_duration(result.behind_s)} late)"
    return (f"{asked}: fell behind by up to {format_duration(result.behind_s)} — the client could not keep "
            f"the rate at this concurrency; latency includes the wait")


#: From this share of its cores busy, the client is near its limit, and the report says what is faster.
ADVISE_FROM = 0.7


def lean_over(engine: str) -> tuple[str, int] | None:
    """The engine of least CPU per request, and how many times the requests a core of
    ``engine``'s it does (names.ENGINE_CLASSES' measurements, rounded down); None when
    ``engine`` is it, or either was not measured."""
    lean = lean_engine()
    mine, theirs = ENGINE_CLASSES[engine].cpu_us, ENGINE_CLASSES[lean].cpu_us
    if engine == lean or not mine or not theirs:
        return None
    return lean, int(mine / theirs)


def saturation_advice(result) -> str:
    """What to say when the client's own CPU (near) bounded the figures: the faster engine,
    by how much, and the other ways out."""
    job = result.job
    tips = []
    faster = lean_over(job.engine) if job.kind == "fetch" else None
    if faster is not None:
        lean, times = faster
        to = f"--engine {lean}" if job.strategy in ("async", "hybrid") else f"--strategy async --engine {lean}"
        tips.append(f"{to} (about {times}x the requests a core of {job.engine}'s)")
    if job.strategy != "hybrid" and job.kind == "fetch" or job.strategy == "async" and job.kind == "run":
        tips.append("--strategy hybrid (a process per core)")
    elif job.strategy in ("sequential", "threads") and job.kind == "run":
        tips.append("--strategy processes (a process per core)")
    tips.append("fewer operations in flight (-c)" if job.kind == "run" else "fewer connections")
    joined = f"{', '.join(tips[:-1]) + ' or ' if len(tips) > 1 else ''}{tips[-1]}"
    if not result.client_bound:
        return f"near the client's limit; for more, try {joined}"
    return f"the client was the bottleneck, so these figures measure it, not the target; try {joined}"


def unit(job, count: int = 2) -> str:
    """What an operation of the job is called: requests or files (one request, one file)."""
    name = {"read": "file", "run": "operation"}.get(job.kind, "request")
    return name if count == 1 else name + "s"


#: Above this share of cached pages, a read benchmark measures memory, not the device.
MOSTLY_CACHED = 0.5


def page_cache_note(result) -> str:
    share = result.page_cache
    evicted = " after --evict-cache" if result.job.read.evict_cache else ""
    if share >= MOSTLY_CACHED:
        return (f"{share:.0%} of sampled pages were cached before the run{evicted}: these are memory "
                f"speeds, not the device's (--evict-cache reads from the device)")
    return f"{share:.0%} of sampled pages were cached before the run{evicted}: reads went mostly to the device"


def title(result, compare: bool = False, targets: Sequence[str] = ()) -> str:
    """The report's first line; for a comparison, without the one strategy's name (and with
    each of ``targets``, where several jobs were compared)."""
    job = result.job
    if compare:
        crawled = "crawl" in result.details
        what = "pages" if crawled else unit(job)
        each = f"{(job.count if crawled else result.ops):,} {what}" if job.duration_s is None else \
            format_duration(job.duration_s)
        return (f"loadtool compare · {'crawl' if crawled else job.kind} · {each} each · concurrency "
                f"{job.concurrency} · {' and '.join(targets) or _target_line(result)}")
    ops = f"{result.ops:,} {unit(job, result.ops)}"
    size = ops if job.duration_s is None else f"{format_duration(job.duration_s)}, {ops}"
    rate = f", rate {job.rate}" if job.rate else ""
    cut = f" — interrupted by {result.interrupted}, partial results" if result.interrupted else ""
    shape = result.layout if result.layout is not None else f"concurrency {result.concurrency}"
    # Never a silent change of speed: a run without the compiled core says so first.
    core = "" if speedups.compiled() else " · pure Python"
    if "crawl" in result.details:
        return (f"loadtool crawl · {result.strategy} ({job.engine}) · {plural(result.ops, 'page')} · {shape}{core}"
                f"{cut}")
    return f"loadtool {job.kind} · {result.strategy} ({job.engine}) · {size}{rate} · {shape}{core}{cut}"


COLUMNS = (
    ("strategy", lambda r: r.strategy),
    ("concurrency", lambda r: str(r.concurrency)),
    ("wall", lambda r: format_duration(r.wall_s)),
    ("ops/s", lambda r: f"{r.throughput_ops_s:,.0f}"),
    ("p50", lambda r: _ms(r.latency_ms["p50"])),
    ("p99", lambda r: _ms(r.latency_ms["p99"])),
    ("failed", lambda r: f"{r.stats.failed:,}"),
    ("speed-up", lambda r: "-" if r.speedup is None else f"{r.speedup:.1f}x"),
    ("efficiency", lambda r: _pct(r.efficiency)),
    ("CPU", lambda r: f"{r.cpu_busy:.0%}" + (" !" if r.client_bound else "")),
)


#: The columns a narrow terminal may leave out (the last first).
OPTIONAL = ("speed-up", "efficiency")

#: Runs with more operations than this show the latency histogram unless told otherwise.
HISTOGRAM_OVER = 1000
BARS, BAR_WIDTH = 10, 40


def histogram_lines(result) -> list[str]:
    """The latency distribution as hey draws it: BARS equal spans from the fastest operation
    to the slowest, each with its count and a bar scaled to the fullest."""
    histogram = result.stats.latency
    if not histogram.get_total_count():
        return []
    low, high = histogram.get_min_value(), histogram.get_max_value()
    span = max(high - low, 1) / BARS
    counts = [0] * BARS
    for value, count in recorded(histogram):
        counts[min(int((value - low) / span), BARS - 1)] += count
    widest = max(counts)
    marks = [format_duration((low + span * (index + 1)) / 1e6) for index in range(BARS)]
    pad = max(len(mark) for mark in marks)
    return [f"  {mark:>{pad}} [{count:>{len(str(widest))}}] {'■' * round(count / widest * BAR_WIDTH)}".rstrip()
            for mark, count in zip(marks, counts)]


def table(results: Sequence, histogram: bool | None = None):
    """A rich renderable: a summary for one result, a side-by-side table for several. With
    ``histogram`` (None: for runs over HISTOGRAM_OVER operations), the latency bars too."""
    from rich.console import Group
    from rich.text import Text

    from .fit import Column, Columns, Summary, Wrapped

    if len(results) == 1:
        # The title is a line of its own: as a table's title it would wrap at the table's width.
        result = results[0]
        parts = [Wrapped(title(result)), Summary(summary_lines(result))]
        if result.stats.step_times.steps:
            parts.append(steps_table(result))
        shown = result.ops > HISTOGRAM_OVER if histogram is None else histogram
        bars = histogram_lines(result) if shown else []
        if bars:
            parts += [Text("latency histogram (operations in each span, up to the latency shown)"), Text("\n".join(bars))]
        tracebacks = result.stats.counts.tracebacks
        if tracebacks:
            parts.append(Text("\n".join(f"the first {kind}, of {result.stats.errors.get(kind, 0):,}:\n{text}"
                                        for kind, text in tracebacks.items())))
        return Group(*parts)
    return Columns([Column(name, "left" if name == "strategy" else "right", name in OPTIONAL)
                    for name, _ in COLUMNS], [[cell(result) for _, cell in COLUMNS] for result in results],
                   title=title(results[0], compare=True, targets=tuple(dict.fromkeys(map(_target_line, results)))))


def steps_table(result):
    """The steps of an operation of the user's own: count, failed, latency, one row each."""
    from .fit import Column, Columns

    rows = []
    for name, step in result.stats.step_times.describe().items():
        latency = step["latency_ms"]
        failed = f"{step['failed']:,}" + (f" ({', '.join(f'{kind} ×{n}' for kind, n in step['errors'].items())})"
                                          if step["errors"] else "")
        rows.append([name, f"{step['count']:,}", failed, _ms(latency["p50"]), _ms(latency["p90"]),
                     _ms(latency["p99"]), _ms(latency["max"]), _ms(latency["mean"])])
    columns = [Column("step", "left"), Column("count"), Column("failed", "left"), Column("p50"),
               Column("p90", optional=True), Column("p99"), Column("max", optional=True),
               Column("mean", optional=True)]
    return Columns(columns, rows, title="steps")


# --- sweep -----------------------------------------------------------------------

def sweep_table(results: Sequence, knee):
    from ..strategies.sizing import gain_per_doubling, reference_level
    from .fit import Column, Columns

    levels = [(result.concurrency, result.throughput_ops_s) for result in results]
    rows = []
    for index, result in enumerate(results):
        gain = "-" if not index else f"{gain_per_doubling(levels[reference_level(levels, index)], levels[index]):+.0%}"
        mark = " ◀ knee" if knee.found and result.concurrency == knee.concurrency else ""
        rows.append([f"{result.concurrency}{mark}", f"{result.ops:,}", format_duration(result.wall_s),
                     f"{result.throughput_ops_s:,.0f}", gain, _ms(result.latency_ms["p50"]),
                     _ms(result.latency_ms["p99"]), f"{result.stats.failed:,}", f"{result.cpu_busy:.0%}"])
    columns = [Column(name, optional=name in ("ops", "wall")) for name in
               ("concurrency", "ops", "wall", "ops/s", "gain/doubling", "p50", "p99", "failed", "client CPU")]
    return Columns(columns, rows, title=sweep_title(results),
                   caption=f"knee: {knee.concurrency} — {knee.reason}" if knee.found else f"no knee: {knee.reason}")


def sweep_title(results: Sequence) -> str:
    first = results[0]
    return (f"loadtool sweep · {first.job.kind} · {first.strategy} · concurrency {first.concurrency}.."
            f"{results[-1].concurrency} · {_target_line(first)}")


def plain_text(renderable, width: int = 10_000) -> str:
    """A rich renderable as plain text for a pipe or a file: no colour, tables as aligned
    columns without box lines, their titles and captions lines of their own (so they do not
    wrap at the table's width), no line wrapped short of ``width``, no trailing spaces."""
    from rich.console import Console

    console = Console(file=io.StringIO(), width=width, color_system=None)
    console.print(_unboxed(renderable))
    return "".join(line.rstrip() + "\n" for line in console.file.getvalue().splitlines())


def _unboxed(renderable):
    """``renderable`` with every table drawn without a box, its title above and caption below."""
    from rich.console import Group
    from rich.table import Table

    from .fit import Columns, Summary

    if isinstance(renderable, Group):
        return Group(*(_unboxed(part) for part in renderable.renderables))
    if isinstance(renderable, (Columns, Summary)):
        return replace(renderable, plain=True)
    if isinstance(renderable, Table) and renderable.box is not None:
        title, caption = renderable.title, renderable.caption
        renderable.title = renderable.caption = None
        renderable.box, renderable.pad_edge, renderable.show_edge = None, False, False
        return Group(*(part for part in (title, renderable, caption) if part is not None))
    return renderable


def text_report(results: Sequence, knee=None, histogram: bool | None = None, as_list: bool = False) -> str:
    """--format table: the report as plain text (a sweep's with ``knee``)."""
    if knee is None and (text := plain_report(results, histogram)) is not None:
        return text
    return plain_text(sweep_table(results, knee) if knee is not None else table(results, histogram))


#: The width of plain text (plain_text's): no line is wrapped short of it.
PLAIN_WIDTH = 10_000


def plain_report(results: Sequence, histogram: bool | None = None) -> str | None:
    """``plain_text(table(results, histogram))`` written without rich, for the report of one
    run with no steps and no tracebacks (the others: None). That is what a short run piped
    or in CI prints, and importing rich was an eighth of its start-up (22 of 180 ms)."""
    if len(results) != 1:
        return None
    result = results[0]
    if result.stats.step_times.steps or result.stats.counts.tracebacks:
        return None
    from .fit import Summary, hanging_lines

    lines = hanging_lines(title(result), PLAIN_WIDTH, 0)
    lines += [f"{label}  {line}" for label, line in Summary(summary_lines(result), plain=True).lines(PLAIN_WIDTH)]
    if result.ops > HISTOGRAM_OVER if histogram is None else histogram:
        bars = histogram_lines(result)
        if bars:
            lines += ["latency histogram (operations in each span, up to the latency shown)", *bars]
    return "".join(line.rstrip() + "\n" for line in "\n".join(lines).splitlines())


def renderable(results: Sequence, knee=None, histogram: bool | None = None):
    """The report as rich draws it on a terminal (a sweep's with ``knee``)."""
    return sweep_table(results, knee) if knee is not None else table(results, histogram)

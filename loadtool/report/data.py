"""Results as data other programs read: the JSON result (``loadtool.result/1``), CSV
rows (one per strategy or level) and the per-second series as CSV."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from .. import __version__, speedups

SCHEMA = "loadtool.result/1"


def result_dict(result, series: bool = True) -> dict[str, Any]:
    """The ``loadtool.result/1`` object of one Result (``series``: with the per-second rows)."""
    stats = result.stats
    return {
        "schema": SCHEMA,
        "tool_version": __version__,
        "job": result.job.describe(),
        "strategy": result.strategy,
        "concurrency": result.concurrency,
        "started_at": result.started_at,
        "wall_s": round(result.wall_s, 6),
        **stats.counts.describe(),
        "throughput_ops_s": round(result.throughput_ops_s, 3),
        "latency_ms": result.latency_ms,
        "service_ms": result.service_ms,
        "behind_s": None if result.behind_s is None else round(result.behind_s, 6),
        "sent_ops_s": None if result.sent_ops_s is None else round(result.sent_ops_s, 3),
        "ideal_s": None if result.ideal_s is None else round(result.ideal_s, 6),
        "efficiency": None if result.efficiency is None else round(result.efficiency, 4),
        "speedup": None if result.speedup is None else round(result.speedup, 3),
        "client": {"cpu_s": round(result.cpu_s, 3), "cores": result.cores,
                   "cpu_busy": round(result.cpu_busy, 4), "client_bound": result.client_bound,
                   "rss_peak_bytes": result.rss_peak_bytes, "memory_per_worker_bytes": result.memory_per_worker_bytes,
                   "core": "compiled" if speedups.compiled() else "pure Python"},
        "interrupted": result.interrupted,
        "page_cache": None if result.page_cache is None else round(result.page_cache, 4),
        "details": result.details,
        "layout": None if result.layout is None else result.layout.describe(),
        "phases_ms": stats.phases_ms(),
        "steps": stats.step_times.describe(),
        "checks": result.checks,
        "series": stats.series.rows() if series else [],
        "histogram": stats.latency.encode().decode("ascii"),
    }


def json_report(results: Sequence, knee=None, histogram: bool | None = None, as_list: bool = False) -> str:
    """--format json: one result, a list of them, or a sweep's levels and knee."""
    return sweep_json(results, knee) if knee is not None else to_json(results, as_list) + "\n"


def csv_report(results: Sequence, knee=None, histogram: bool | None = None, as_list: bool = False) -> str:
    """--format csv: a row a result (a sweep's levels, with the knee marked)."""
    return sweep_csv(results, knee) if knee is not None else to_csv(results)


def to_json(results: Sequence, as_list: bool = False) -> str:
    data = [result_dict(result) for result in results]
    return json.dumps(data if as_list or len(data) != 1 else data[0], indent=2)


CSV_FIELDS = ("strategy", "concurrency", "ops", "ok", "wall_s", "throughput_ops_s", "p50_ms", "p90_ms",
              "p99_ms", "p999_ms", "max_ms", "mean_ms", "p75_ms", "p95_ms", "failed", "errors", "bytes", "ideal_s", "efficiency",
              "speedup", "cpu_busy", "interrupted")


def to_csv(results: Sequence) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for result in results:
        data = result_dict(result, series=False)
        row = {key: data.get(key) for key in CSV_FIELDS}
        row.update({f"{name}_ms": value for name, value in data["latency_ms"].items()})
        row["failed"], row["errors"] = result.stats.failed, result.stats.errored
        row["cpu_busy"] = data["client"]["cpu_busy"]
        writer.writerow(row)
    return out.getvalue()


SERIES_FIELDS = ("strategy", "concurrency", "second", "ops", "failed", "errors", "bytes", "p50_ms", "p99_ms")


def series_csv(results: Sequence) -> str:
    """One row per second per run: the series behind ``--series FILE.csv``."""
    out = io.StringIO()
    writer = csv.DictWriter(out, SERIES_FIELDS, lineterminator="\n")
    writer.writeheader()
    for result in results:
        for row in result.stats.series.rows():
            writer.writerow({"strategy": result.strategy, "concurrency": result.concurrency, **row})
    return out.getvalue()


def series_file(results: Sequence, path: str, knee=None, verdicts=()) -> dict[str, str]:
    """``--series FILE.csv``: the per-second series of every run."""
    return {path: series_csv(results)}


def sweep_json(results: Sequence, knee) -> str:
    return json.dumps({"schema": "loadtool.sweep/1", "knee": {"concurrency": knee.concurrency,
                       "reason": knee.reason, "found": knee.found},
                       "levels": [result_dict(result) for result in results]}, indent=2) + "\n"


def sweep_csv(results: Sequence, knee) -> str:
    lines = to_csv(results).splitlines()
    marks = ["knee"] + ["yes" if knee.found and r.concurrency == knee.concurrency else "" for r in results]
    return "\n".join(f"{line},{mark}" for line, mark in zip(lines, marks)) + "\n"

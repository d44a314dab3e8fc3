"""Results as data other programs read: the JSON result (``loadtool.result/1``), CSV
rows (one per strategy or level) and the per-second series as CSV."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence



def to_json(results: Sequence, as_list: bool = False) -> str:
    data = [result.to_dict() for result in results]
    return json.dumps(data if as_list or len(data) != 1 else data[0], indent=2)


CSV_FIELDS = ("strategy", "concurrency", "ops", "ok", "wall_s", "throughput_ops_s", "p50_ms", "p90_ms",
              "p99_ms", "p999_ms", "max_ms", "mean_ms", "p75_ms", "p95_ms", "failed", "errors", "bytes", "ideal_s", "efficiency",
              "speedup", "cpu_busy", "interrupted")


def to_csv(results: Sequence) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for result in results:
        data = result.to_dict(series=False)
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


def sweep_json(results: Sequence, knee) -> str:
    return json.dumps({"schema": "loadtool.sweep/1", "knee": {"concurrency": knee.concurrency,
                       "reason": knee.reason, "found": knee.found},
                       "levels": [result.to_dict() for result in results]}, indent=2) + "\n"


def sweep_csv(results: Sequence, knee) -> str:
    lines = to_csv(results).splitlines()
    marks = ["knee"] + ["yes" if knee.found and r.concurrency == knee.concurrency else "" for r in results]
    return "\n".join(f"{line},{mark}" for line, mark in zip(lines, marks)) + "\n"

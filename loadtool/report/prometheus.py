"""--prometheus ADDR: live metrics of the run in Prometheus' text format, served by
prometheus_client while the run goes on, as k6 and locust feed Prometheus and Grafana.

Nothing is counted twice: at each scrape, a collector reads the run's own Stats (under
the Sink's lock) and turns them into metric families, so a scrape costs the run nothing
between scrapes. Every run of a command is labelled by its strategy and concurrency, so
compare and sweep expose each run, the finished ones at their final values. After the
last run the values stay scrapeable for --linger.

Operations in flight are not counted one by one (the processes, hybrid and cluster
strategies start theirs in other processes): ``loadtool_in_flight`` is their average
over the last whole second by Little's law — the operations that ended in it times their
mean latency — the same for every strategy.

    loadtool_operations_total{strategy,concurrency}          counter
    loadtool_failed_total{strategy,concurrency}              counter (errors + refused statuses)
    loadtool_errors_total{strategy,concurrency,kind}         counter
    loadtool_responses_total{strategy,concurrency,status}    counter
    loadtool_bytes_total{strategy,concurrency}               counter
    loadtool_latency_seconds{strategy,concurrency}           histogram
    loadtool_in_flight{strategy,concurrency}                 gauge (in flight, by Little's law: see below)
    loadtool_in_flight_limit{strategy,concurrency}           gauge (operations allowed in flight)
    loadtool_behind_seconds{strategy,concurrency}            gauge (open model: the latest send)
    loadtool_running{strategy,concurrency}                   gauge (1 while the run goes on)
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from typing import Any

from ..errors import UsageError
from ..metrics import recorded
from ..system import is_loopback

#: Latency buckets in seconds: 1 ms to 60 s, the span of web answers (prometheus_client's
#: defaults stop at 10 s and start at 5 ms, too coarse for loopback).
BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
DEFAULT_PORT = 9464


def parse_address(text: str) -> tuple[str, int]:
    """``9464``, ``:9464``, ``127.0.0.1:9464`` or ``[::1]:9464`` as (host, port); loopback
    unless a host is given."""
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = "", text
    host = host.strip("[]") or "127.0.0.1"
    try:
        number = int(port)
    except ValueError:
        raise UsageError(f"--prometheus {text!r}: not HOST:PORT or PORT (e.g. 127.0.0.1:9464)") from None
    if not 0 <= number <= 65535:
        raise UsageError(f"--prometheus {text!r}: the port must be 0..65535")
    return host, number


class _Run:
    """One run's source of metrics: its sink while it goes on, its final Stats after."""

    def __init__(self, labels: tuple[str, str], in_flight: int, sink: Any) -> None:
        self.labels, self.in_flight, self.sink = labels, in_flight, sink
        self.final = None

    def read(self, collect) -> None:
        if self.final is not None:
            collect(self.final, running=False)
        else:
            self.sink.read(lambda stats: collect(stats, running=True))


class Exporter:
    """The metrics server and what it serves; ``watch`` is a progress factory (job, layout, sink)."""

    def __init__(self, address: str) -> None:
        from prometheus_client import CollectorRegistry, start_http_server

        host, port = parse_address(address)
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self)
        self._runs: list[_Run] = []
        self._lock = threading.Lock()
        try:
            self._server, self._thread = start_http_server(port, addr=host, registry=self.registry)
        except OSError as exc:
            raise UsageError(f"--prometheus {address}: cannot listen: {exc.strerror or exc}") from None
        bound_host, bound_port = self._server.server_address[:2]
        self.url = f"http://{bound_host if ':' not in bound_host else f'[{bound_host}]'}:{bound_port}/metrics"
        self.public = not is_loopback(host)

    @contextmanager
    def watch(self, job: Any, layout: Any, sink: Any):
        run = _Run((job.strategy, str(job.concurrency)), layout.in_flight, sink)
        with self._lock:
            self._runs.append(run)
        try:
            yield
        finally:
            run.final = sink.read(lambda stats: stats.copy())

    def collect(self):
        """prometheus_client's collector protocol: every run's metric families, read now."""
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

        names = ["strategy", "concurrency"]
        families = {
            "ops": CounterMetricFamily("loadtool_operations", "Operations done", labels=names),
            "failed": CounterMetricFamily("loadtool_failed", "Operations that were not ok: an error, or a "
                                          "status --ok-status refuses", labels=names),
            "errors": CounterMetricFamily("loadtool_errors", "Operations that ended in an error, by kind",
                                          labels=[*names, "kind"]),
            "status": CounterMetricFamily("loadtool_responses", "Answers by HTTP status", labels=[*names, "status"]),
            "bytes": CounterMetricFamily("loadtool_bytes", "Body bytes received (or read)", labels=names),
            "latency": HistogramMetricFamily("loadtool_latency_seconds", "Latency of each operation (open model: "
                                             "from when it was due)", labels=names),
            "in_flight": GaugeMetricFamily("loadtool_in_flight", "Operations in flight on average over the last "
                                           "whole second (Little's law: ended × mean latency)", labels=names),
            "limit": GaugeMetricFamily("loadtool_in_flight_limit", "Operations allowed in flight at once",
                                       labels=names),
            "behind": GaugeMetricFamily("loadtool_behind_seconds", "Open model: the latest any operation was "
                                        "sent after it was due", labels=names),
            "running": GaugeMetricFamily("loadtool_running", "1 while the run goes on, 0 after", labels=names),
        }
        with self._lock:
            runs = list(self._runs)
        for run in runs:
            run.read(lambda stats, running, run=run: _add(families, run, stats, running))
        yield from families.values()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _add(families: dict, run: _Run, stats: Any, running: bool) -> None:
    labels = list(run.labels)
    families["ops"].add_metric(labels, stats.ops)
    families["failed"].add_metric(labels, stats.failed)
    for kind, number in sorted(stats.errors.items()):
        families["errors"].add_metric([*labels, kind], number)
    for status, number in sorted(stats.status.items()):
        families["status"].add_metric([*labels, str(status)], number)
    families["bytes"].add_metric(labels, stats.bytes)
    families["latency"].add_metric(labels, *_buckets(stats.latency))
    last_second = int(time.time() - stats.epoch) - 1
    families["in_flight"].add_metric(labels, stats.series.concurrency(last_second) if running else 0.0)
    families["limit"].add_metric(labels, run.in_flight)
    if stats.service is not None:
        families["behind"].add_metric(labels, stats.behind_us / 1e6)
    families["running"].add_metric(labels, 1 if running else 0)


def _buckets(histogram) -> tuple[list[tuple[str, int]], float]:
    """The histogram's (µs) cumulative counts at BUCKETS_S, and the sum of its values in s."""
    counts, total, index, running = [0] * len(BUCKETS_S), 0.0, 0, 0
    for value, count in recorded(histogram):
        seconds = value / 1e6
        total += seconds * count
        while index < len(BUCKETS_S) and seconds > BUCKETS_S[index]:
            counts[index] = running
            index += 1
        running += count
    for rest in range(index, len(BUCKETS_S)):
        counts[rest] = running
    buckets = [(repr(bound), count) for bound, count in zip(BUCKETS_S, counts)]
    buckets.append(("+Inf", running))
    return buckets, total

"""Plots of results (``--plot FILE.png``); needs the optional extra ``loadtool[plot]``.

- one run: the latency percentile curve, HDR style (x is 1/(1-percentile) on a log
  scale, so the tail gets the room it deserves), and throughput and p99 per second;
- compare: the same curves per strategy, overlaid, and wall time and ops/s as bars;
- sweep: throughput and p99 against concurrency, with the knee marked.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from ..errors import UsageError

INSTALL_HINT = "--plot needs matplotlib: pip install 'loadtool[plot]'"
#: Percentile ticks of the HDR-style x axis, as 1/(1-p).
TICKS = {1: "0%", 2: "50%", 10: "90%", 100: "99%", 1000: "99.9%", 10_000: "99.99%", 100_000: "99.999%"}


def require_matplotlib() -> None:
    """Fail early, before a run, when --plot cannot be honoured."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise UsageError(INSTALL_HINT) from None


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only: no display needed, none assumed
    import matplotlib.pyplot as pyplot

    return pyplot


def percentile_curve(histogram) -> tuple[list[float], list[float]]:
    """(1/(1-p) for each step, latency in ms at that percentile), from an HdrHistogram."""
    xs, ys = [], []
    for step in histogram.get_percentile_iterator(5):
        share = step.percentile_level_iterated_to / 100
        if share >= 1:
            break
        xs.append(1 / (1 - share))
        ys.append(step.value_iterated_to / 1000)
    if histogram.get_total_count():
        xs.append(max(xs[-1] * 2 if xs else 2, histogram.get_total_count()))
        ys.append(histogram.get_max_value() / 1000)
    return xs, ys


def _latency_axis(axis, results) -> None:
    for result in results:
        xs, ys = percentile_curve(result.stats.latency)
        axis.plot(xs, ys, label=result.strategy, linewidth=1.6)
    axis.set_xscale("log")
    top = max((max(percentile_curve(r.stats.latency)[0], default=10) for r in results), default=10)
    ticks = [tick for tick in TICKS if tick <= top * 1.01]
    axis.set_xticks(ticks, [TICKS[tick] for tick in ticks])
    axis.set_xlabel("percentile")
    axis.set_ylabel("latency (ms)")
    axis.set_title("Latency by percentile")
    axis.grid(True, which="major", alpha=0.3)
    axis.legend()


def per_second(result) -> tuple[list[int], list[float], list[float | None]]:
    """Seconds, ops/s and p99 of a run's series; the last, partial second is scaled up to a
    full second's rate, so a run's end does not look like a collapse — or left out when it
    lasted under 50 ms, too short to be a rate at all."""
    rows = result.stats.series.rows()
    if len(rows) > 1 and result.wall_s - rows[-1]["second"] <= 0.05:
        rows = rows[:-1]
    seconds = [row["second"] for row in rows]
    rates = [float(row["ops"]) for row in rows]
    if rows:
        used = result.wall_s - rows[-1]["second"]
        if 0.05 < used < 1:
            rates[-1] /= used
    return seconds, rates, [row["p99_ms"] for row in rows]


#: Fewer seconds than this make no line: the series counts per second, and one or two
#: points drawn as a "throughput over time" would be a dot that says nothing.
SERIES_MIN_SECONDS = 3


def _series_axis(axis, results) -> None:
    if all(len(result.stats.series.rows()) < SERIES_MIN_SECONDS for result in results):
        longest = max(result.wall_s for result in results)
        axis.text(0.5, 0.5, f"the run{'s' if len(results) > 1 else ''} lasted {longest:.2g}s: too short for "
                  f"throughput over time\n(counted per second; run {SERIES_MIN_SECONDS}s or more, e.g. -d 10s)",
                  ha="center", va="center", transform=axis.transAxes, fontsize=10)
        axis.set_title("Throughput over time")
        axis.set_axis_off()
        return
    for result in results:
        seconds, rates, _ = per_second(result)
        axis.plot(seconds, rates, label=f"{result.strategy} ops/s", marker="o", markersize=3)
    axis.set_xlabel("second of the run")
    axis.set_ylabel("operations per second")
    axis.set_title("Throughput over time")
    axis.grid(True, alpha=0.3)
    axis.set_ylim(bottom=0)
    handles = axis.get_lines()
    if len(results) == 1:
        p99_axis = axis.twinx()
        seconds, _, p99 = per_second(results[0])
        handles += p99_axis.plot(seconds, p99, color="tab:red", label="p99 (ms)", marker="s", markersize=3,
                                 alpha=0.7)
        p99_axis.set_ylabel("p99 latency per second (ms)", color="tab:red")
        p99_axis.set_ylim(bottom=0)
    axis.legend(handles=handles, loc="lower left")


def plot_file(results: Sequence, path: str, knee=None, verdicts=()) -> dict[str, bytes]:
    """``--plot FILE.png``: a run's (or a comparison's) latency and throughput, or a sweep's curve."""
    from .text import sweep_title, title

    image = io.BytesIO()
    if knee is not None:
        plot_sweep(results, knee, image, sweep_title(results))
    else:
        plot_results(results, image, title(results[0], compare=len(results) > 1))
    return {path: image.getvalue()}


def plot_results(results: Sequence, path, title: str) -> None:
    """A run's (or a comparison's) latency curve and throughput over time, to a PNG."""
    pyplot = _pyplot()
    compare = len(results) > 1
    figure, axes = pyplot.subplots(1, 3 if compare else 2, figsize=(17 if compare else 12, 4.8))
    _latency_axis(axes[0], results)
    _series_axis(axes[1], results)
    if compare:
        names = [result.strategy for result in results]
        bars = axes[2].bar(names, [result.throughput_ops_s for result in results], color="tab:blue")
        for bar, result in zip(bars, results):
            label = f"{result.wall_s:.2f}s" + (f"\n{result.speedup:.1f}x" if result.speedup else "")
            axes[2].annotate(label, (bar.get_x() + bar.get_width() / 2, bar.get_height()), ha="center",
                             va="bottom", fontsize=9)
        axes[2].set_ylim(top=max(result.throughput_ops_s for result in results) * 1.2)
        axes[2].set_ylabel("operations per second")
        axes[2].set_title("Throughput by strategy (labels: wall time, speed-up)")
    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=110, format="png")
    pyplot.close(figure)


def plot_sweep(results: Sequence, knee, path, title: str) -> None:
    """Throughput and p99 against concurrency, the knee marked, to a PNG."""
    pyplot = _pyplot()
    figure, axis = pyplot.subplots(figsize=(10, 5))
    levels = [result.concurrency for result in results]
    axis.plot(levels, [result.throughput_ops_s for result in results], marker="o", color="tab:blue",
              label="ops/s")
    axis.set_xscale("log", base=2)
    axis.set_yscale("log")  # on log-log axes, throughput that scales is a straight line until the knee
    axis.set_xticks(levels, [str(level) for level in levels])
    axis.set_xlabel("concurrency")
    axis.set_ylabel("operations per second", color="tab:blue")
    latency = axis.twinx()
    latency.plot(levels, [result.latency_ms["p99"] for result in results], marker="s", color="tab:red",
                 label="p99 (ms)")
    latency.set_ylabel("p99 latency (ms)", color="tab:red")
    if knee.found:
        axis.axvline(knee.concurrency, color="gray", linestyle="--")
        axis.annotate(f"knee: {knee.concurrency}", (knee.concurrency, axis.get_ylim()[1] * 0.95),
                      ha="right", fontsize=9)
    axis.set_title(f"{title}\n{knee.reason}", fontsize=10)
    axis.grid(True, alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=110, format="png")
    pyplot.close(figure)

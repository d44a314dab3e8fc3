"""--html FILE: one self-contained HTML report (plotly's JavaScript embedded, so it opens
with no network), interactive: zoom and hover on every chart. Needs the optional extra
``loadtool[html]``.

It shows what the text report says, and what a text report cannot draw: the summary
(one run) or the side-by-side table (compare, sweep), the latency percentile curve (HDR
style: the tail gets the room), latency and throughput over time, answers by status and
errors by kind, and for a sweep throughput and p99 against concurrency.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from ..errors import UsageError
from .plot import SERIES_MIN_SECONDS, TICKS, per_second, percentile_curve
from .text import COLUMNS, plain_text, summary_lines, sweep_table, sweep_title, title

INSTALL_HINT = "--html needs plotly: pip install 'loadtool[html]'"

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; }}
h1 {{ font-size: 1.2em; }} h2 {{ font-size: 1.05em; margin-top: 2em; }}
table {{ border-collapse: collapse; }} th, td {{ padding: 0.2em 0.8em; text-align: left; vertical-align: top; }}
table.runs td {{ text-align: right; }} table.runs td:first-child {{ text-align: left; }}
tr:nth-child(even) {{ background: #f4f4f4; }} pre {{ background: #f4f4f4; padding: 1em; overflow-x: auto; }}
</style>
<script>/* Any script error marks the page (data-errors on body), for tests and for readers. */
window.addEventListener("error", e => {{ document.body.dataset.errors = (document.body.dataset.errors || "") + e.message + "\\n"; }});</script>
</head><body>
<h1>{title}</h1>
{body}
</body></html>
"""


def require_plotly() -> None:
    """Fail early, before a run, when --html cannot be honoured."""
    try:
        import plotly  # noqa: F401
    except ImportError:
        raise UsageError(INSTALL_HINT) from None


def html_report(results: Sequence, knee: Any = None) -> str:
    """The HTML page of ``results``: one run, a comparison, or (with ``knee``) a sweep."""
    first = results[0]
    heading = sweep_title(results) if knee is not None else title(first, compare=len(results) > 1)
    parts = [_summary(results, knee)]
    figures = [("Latency by percentile", _percentile_figure(results))]
    if knee is not None:
        figures.insert(0, ("Throughput and p99 against concurrency", _sweep_figure(results, knee)))
    # Counted per second: a run of a second or two would draw a dot, which says nothing.
    timed = any(len(result.stats.series.rows()) >= SERIES_MIN_SECONDS for result in results)
    if timed:
        figures += [("Latency over time", _latency_over_time(results)),
                    ("Throughput over time", _throughput_over_time(results))]
    figures.append(("Answers by status and errors by kind", _outcomes(results)))
    for index, (name, figure) in enumerate(figures):
        chart = figure.to_html(full_html=False, include_plotlyjs=index == 0, config={"displaylogo": False})
        parts.append(f"<h2>{html.escape(name)}</h2>\n{chart}")
    if not timed:
        longest = max(result.wall_s for result in results)
        parts.append(f"<h2>Over time</h2>\n<p>The run{'s' if len(results) > 1 else ''} lasted {longest:.2g}s: too "
                     f"short for latency and throughput over time, which are counted per second (run "
                     f"{SERIES_MIN_SECONDS}s or more, e.g. -d 10s).</p>")
    return PAGE.format(title=html.escape(heading), body="\n".join(parts))


def html_file(results: Sequence, path: str, knee: Any = None, verdicts=()) -> dict[str, str]:
    """``--html FILE.html``: the page."""
    return {path: html_report(results, knee)}


def _summary(results: Sequence, knee: Any) -> str:
    p99 = "".join(f'<span class="p99" data-strategy="{html.escape(r.strategy)}" data-concurrency="{r.concurrency}" '
                  f'data-ms="{r.latency_ms["p99"]}" hidden></span>' for r in results)
    if len(results) == 1:
        rows = "".join(f"<tr><th>{html.escape(label)}</th><td><pre style='margin:0;padding:0;background:none'>"
                       f"{html.escape(text)}</pre></td></tr>" for label, text in summary_lines(results[0]))
        return f"<table>{rows}</table>{p99}"
    if knee is not None:
        table = plain_text(sweep_table(results, knee)).split("\n", 1)[1]  # the title is the page's heading
        return f"<pre>{html.escape(table)}</pre>{p99}"
    head = "".join(f"<th>{html.escape(name)}</th>" for name, _ in COLUMNS)
    rows = "".join("<tr>" + "".join(f"<td>{html.escape(cell(result))}</td>" for _, cell in COLUMNS) + "</tr>"
                   for result in results)
    return f"<table class='runs'><tr>{head}</tr>{rows}</table>{p99}"


def _name(result, results: Sequence) -> str:
    """A run's name in a legend: its strategy, or its concurrency when all share one."""
    if len({r.strategy for r in results}) == len(results):
        return result.strategy
    return f"c={result.concurrency}"


def _figure(**layout: Any):
    import plotly.graph_objects as go

    figure = go.Figure()
    figure.update_layout(**{"template": "plotly_white", "height": 420, "margin": {"t": 30, "b": 50},
                            "hovermode": "x unified", **layout})
    return figure


def _percentile_figure(results: Sequence):
    import plotly.graph_objects as go

    figure = _figure(xaxis={"type": "log", "title": "percentile", "tickvals": list(TICKS),
                            "ticktext": list(TICKS.values())},
                     yaxis={"title": "latency (ms)"})
    for result in results:
        xs, ys = percentile_curve(result.stats.latency)
        labels = [f"{(1 - 1 / x) * 100:.4g}%" for x in xs]
        figure.add_trace(go.Scatter(x=xs, y=ys, name=_name(result, results), mode="lines", customdata=labels,
                                    hovertemplate="%{customdata}: %{y:.3g} ms"))
    return figure


def _latency_over_time(results: Sequence):
    import plotly.graph_objects as go

    figure = _figure(xaxis={"title": "second of the run"}, yaxis={"title": "latency (ms)", "rangemode": "tozero"})
    for result in results:
        rows = result.stats.series.rows()
        seconds = [row["second"] for row in rows]
        for key, dash in (("p50_ms", "solid"), ("p99_ms", "dot")):
            figure.add_trace(go.Scatter(x=seconds, y=[row[key] for row in rows], mode="lines+markers",
                                        name=f"{_name(result, results)} {key[:3]}", line={"dash": dash}))
    return figure


def _throughput_over_time(results: Sequence):
    import plotly.graph_objects as go

    figure = _figure(xaxis={"title": "second of the run"},
                     yaxis={"title": "operations per second", "rangemode": "tozero"})
    for result in results:
        seconds, rates, _ = per_second(result)
        figure.add_trace(go.Scatter(x=seconds, y=rates, mode="lines+markers", name=_name(result, results)))
    return figure


def _outcomes(results: Sequence):
    import plotly.graph_objects as go

    figure = _figure(barmode="group", yaxis={"title": "operations"}, hovermode="closest")
    for result in results:
        names = [f"status {code}" for code in sorted(result.stats.status)]
        names += [f"error {kind}" for kind in sorted(result.stats.errors)]
        counts = [result.stats.status[code] for code in sorted(result.stats.status)]
        counts += [result.stats.errors[kind] for kind in sorted(result.stats.errors)]
        figure.add_trace(go.Bar(x=names, y=counts, name=_name(result, results)))
    return figure


def _sweep_figure(results: Sequence, knee: Any):
    import plotly.graph_objects as go

    levels = [result.concurrency for result in results]
    figure = _figure(xaxis={"type": "log", "title": "concurrency", "tickvals": levels},
                     yaxis={"title": "operations per second", "rangemode": "tozero"},
                     yaxis2={"title": "p99 (ms)", "overlaying": "y", "side": "right", "rangemode": "tozero"})
    figure.add_trace(go.Scatter(x=levels, y=[r.throughput_ops_s for r in results], name="ops/s",
                                mode="lines+markers"))
    figure.add_trace(go.Scatter(x=levels, y=[r.latency_ms["p99"] for r in results], name="p99 (ms)",
                                mode="lines+markers", yaxis="y2"))
    if knee.found:
        figure.add_vline(x=knee.concurrency, line_dash="dash", annotation_text=f"knee: {knee.concurrency}")
    return figure

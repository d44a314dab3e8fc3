"""Reporters: functions of Results that only format — text, JSON and CSV, plots, JUnit.

They do no I/O on targets and compute nothing a Result does not already say.
"""

from __future__ import annotations

from .data import series_csv, sweep_csv, sweep_json, to_csv, to_json
from .text import plain_text, summary_lines, sweep_table, table

FORMATS = ("table", "json", "csv")

#: The files a run can leave beside its report, by the option that asks for each (its name
#: as the command line's parameter): the report module and its function ``(results, path,
#: knee, verdicts) -> {path: text or bytes}``, and what must be installed, checked before
#: the run. A new output is its module here, one line, and its option in cli.options.
FILES = {
    "series": ("data", "series_file", None),
    "hdr_log": ("hdrlog", "log_files", None),
    "html": ("html", "html_file", "require_plotly"),
    "plot": ("plot", "plot_file", "require_matplotlib"),
    "junit": ("junit", "junit_file", None),
}


def report_module(name: str):
    """The module of report/ that makes the file option ``name`` asks for."""
    import importlib

    return importlib.import_module(f"{__name__}.{FILES[name][0]}")


def render_text(results, fmt: str, as_list: bool = False, histogram: bool | None = None) -> str:
    """The report of ``results`` in ``fmt`` (table, json or csv) as plain text."""
    if fmt == "json":
        return to_json(results, as_list) + "\n"
    if fmt == "csv":
        return to_csv(results)
    return plain_text(table(results, histogram))


def sweep_text(results, knee, fmt: str) -> str:
    """A sweep's report in ``fmt`` as plain text."""
    if fmt == "json":
        return sweep_json(results, knee)
    if fmt == "csv":
        return sweep_csv(results, knee)
    return plain_text(sweep_table(results, knee))


__all__ = ["FILES", "FORMATS", "render_text", "report_module", "series_csv", "summary_lines", "sweep_text", "table"]

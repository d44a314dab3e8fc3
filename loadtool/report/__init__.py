"""Reporters: functions of Results that only format — text, JSON and CSV, plots, JUnit.

They do no I/O on targets and compute nothing a Result does not already say.
"""

from __future__ import annotations

from .data import series_csv, sweep_csv, sweep_json, to_csv, to_json
from .text import plain_text, summary_lines, sweep_table, table

FORMATS = ("table", "json", "csv")


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


__all__ = ["FORMATS", "render_text", "series_csv", "summary_lines", "sweep_text", "table"]

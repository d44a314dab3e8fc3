"""Reporters: functions of Results that only format — text, JSON and CSV, plots, JUnit — and
the views of a run as it goes (progress, the live view, Prometheus) and its thresholds.

They do no I/O on targets and compute nothing a Result does not already say. Formats
(--format) are found through the registry (``names.FORMATS``), the files beside a report
(--html, --junit ...) through the table of options (``options.FILES``).
"""

from __future__ import annotations

from ..names import FORMATS


def report_module(name: str):
    """The module of report/ called ``name``."""
    import importlib

    return importlib.import_module(f"{__name__}.{name}")


def render_text(results, fmt: str, as_list: bool = False, histogram: bool | None = None, knee=None) -> str:
    """The report of ``results`` (a sweep's with ``knee``) in format ``fmt`` (names.FORMATS) as text."""
    module, function = FORMATS[fmt]
    return getattr(report_module(module), function)(results, knee=knee, histogram=histogram, as_list=as_list)

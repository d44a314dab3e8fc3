"""A Result in Jupyter: a small table of the report's summary rows (``_repr_html_``)."""

from __future__ import annotations

from html import escape

from .text import summary_lines, title


def html_table(result) -> str:
    rows = "".join(f"<tr><th style='text-align:left'>{escape(label)}</th>"
                   f"<td style='text-align:left'>{escape(text)}</td></tr>" for label, text in summary_lines(result))
    return f"<table><caption style='text-align:left'>{escape(title(result))}</caption>{rows}</table>"

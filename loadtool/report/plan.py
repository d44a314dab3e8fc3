"""The plan as a table a person can act on, and as JSON."""

from __future__ import annotations

import json
from typing import Any

from ..strategies.sizing import way_label
from ..units import format_bytes, format_duration


def _deadline(option: dict[str, Any]) -> str:
    return {True: "yes", False: "no", None: "-"}[option["meets_deadline"]]


def plan_table(plan: dict[str, Any], title: str):
    from rich.console import Group
    from rich.text import Text

    from .fit import Column, Columns, Wrapped

    deadline = plan["goal"].get("deadline_s") is not None
    names = ["way", "concurrency", "machines", "ops/s" if plan.get("operation") else "pages/s", "bound by",
             "total time", "p10–p90"]
    rows = []
    for option in plan["options"]:
        way = way_label(option["strategy"], option["engine"])
        memory = "-" if option["memory_bytes"] is None else format_bytes(option["memory_bytes"])
        low, high = option["total_range_s"]
        rows.append([way, f"{option['concurrency']:,}", f"{option['machines']:,}",
                     f"{option['throughput_per_s']:,.0f}", option["bound"], format_duration(option["total_s"]),
                     f"{format_duration(low)}–{format_duration(high)}"]
                    + ([_deadline(option)] if deadline else [])
                    + [memory + ("/machine" if option["machines"] > 1 and memory != "-" else "")])
    # A narrow terminal leaves out memory, then whether the deadline is met (machines are sized to
    # meet it), then the time's range: never a cell cut.
    optional = ("deadline", "memory", "p10–p90")
    columns = [Column(name, "left" if name in ("way", "bound by") else "right", name in optional)
               for name in names + (["deadline"] if deadline else []) + ["memory"]]
    notes = [Wrapped(f"• {line}", style="dim", hanging=2) for line in plan["assumptions"]]
    return Group(Columns(columns, rows, title=title), Text("assumptions:"), *notes)


def check_text(checked) -> str:
    low, high = checked.range_s
    verdict = "within the plan's range" if checked.within_range else "outside the plan's range"
    return (f"{way_label(checked.strategy, checked.engine)}, {checked.ops:,} ops at concurrency {checked.concurrency}: "
            f"predicted {format_duration(checked.predicted_s)} ({format_duration(low)}–{format_duration(high)}), "
            f"measured {format_duration(checked.measured_s)}: {checked.error:+.1%}, {verdict}\n")


def plan_text(plan: dict[str, Any], title: str) -> str:
    """plan --format table, as plain text."""
    from .text import plain_text

    return plain_text(plan_table(plan, title))


def plan_json(plan: dict[str, Any], title: str = "") -> str:
    return json.dumps(plan, indent=2) + "\n"

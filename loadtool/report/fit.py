"""Reports that fit the terminal they are printed on, and never cut a value.

rich shrinks a table that is too wide by cutting its cells (``thre…``, ``36.4…``); a
report that hides its numbers is worse than one that wraps. The renderables here choose
their layout from the width rich offers them when they are printed:

- ``Columns``: a table, boxed if it fits; else without vertical lines; else without its
  optional columns (the last first), named under the table as being in --format json.
- ``Summary``: label and text rows whose text wraps *between* items (separated by three
  spaces), continuing under the text, never inside an item such as ``p99.9 340ms``.

Piped or written, a report is plain text of unlimited width (``plain`` is set), so
nothing is dropped there.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

#: What separates the items of a summary row.
GAP = "   "


@dataclass
class Column:
    header: str
    justify: str = "right"
    #: May be left out when the table would not fit otherwise (it stays in --format json).
    optional: bool = False


@dataclass
class Columns:
    """A table that fits the width it is printed in (see the module's docstring)."""

    columns: Sequence[Column]
    rows: Sequence[Sequence[str]]
    title: str | None = None
    caption: str | None = None
    #: Draw it as plain aligned columns, no box (for pipes and files).
    plain: bool = False

    def table(self, boxed: bool = True, keep: Sequence[int] | None = None):
        from rich import box
        from rich.table import Table

        keep = range(len(self.columns)) if keep is None else keep
        table = Table(box=box.HEAVY_HEAD if boxed else box.SIMPLE_HEAD, show_edge=boxed, pad_edge=boxed,
                      padding=(0, 1), collapse_padding=not boxed)
        for index in keep:
            column = self.columns[index]
            table.add_column(column.header, justify=column.justify, no_wrap=True)
        for row in self.rows:
            table.add_row(*(row[index] for index in keep))
        return table

    def layout(self, width: int):
        """The table for ``width`` columns, and the headers it left out."""
        everything = list(range(len(self.columns)))
        if self.plain:
            return self._plain(everything), ()
        for boxed in (True, False):
            table = self.table(boxed)
            if _width(table) <= width:
                return table, ()
        keep = everything[:]
        for index in reversed(everything):
            if not self.columns[index].optional:
                continue
            keep.remove(index)
            table = self.table(False, keep)
            if _width(table) <= width:
                break
        return table, tuple(self.columns[index].header for index in everything if index not in keep)

    def _plain(self, keep):
        table = self.table(False, keep)
        table.box = None
        return table

    def __rich_console__(self, console, options):
        from rich.text import Text

        table, dropped = self.layout(options.max_width)
        if self.title:
            yield Wrapped(self.title)
        yield table
        if self.caption:
            yield Text(self.caption)
        if dropped:
            yield Text(f"({', '.join(dropped)}: in --format json, or on a wider terminal)", style="dim")


def _width(table) -> int:
    """The width ``table`` takes when nothing limits it."""
    from rich.console import Console

    console = Console(width=10_000, color_system=None, legacy_windows=False)
    return console.measure(table).maximum


@dataclass
class Summary:
    """(label, text) rows, the text wrapping between its items to fit the width."""

    rows: Sequence[tuple[str, str]]
    plain: bool = False

    def lines(self, width: int) -> list[tuple[str, str]]:
        label_width = max((len(label) for label, _ in self.rows), default=0)
        room = max(width - label_width - 2, 20)
        out = []
        for label, text in self.rows:
            # A text of several lines (a check a line) keeps them, each wrapped on its own and
            # under the text, never under the label, piped or not.
            wrapped = [piece for line in text.split("\n")
                       for piece in ([line] if self.plain else wrap_items(line, room))]
            out += [(label if index == 0 else "", line) for index, line in enumerate(wrapped)]
        return [(label.ljust(label_width), line) for label, line in out]

    def __rich_console__(self, console, options):
        from rich.text import Text

        for label, line in self.lines(options.max_width):
            text = Text(label, style="bold")
            text.append("  " + line)
            text.no_wrap = True
            yield text


def wrap_items(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width``, broken between items (``GAP`` apart); an item
    longer than a line is broken between its words."""
    lines: list[str] = []
    line = ""
    for item in text.split(GAP):
        joined = f"{line}{GAP}{item}" if line else item
        if len(joined) <= width:
            line = joined
            continue
        if line:
            lines.append(line)
        pieces = wrap_words(item, width) or [""]
        lines += pieces[:-1]
        line = pieces[-1]
    lines.append(line)
    return lines


#: Where a word too long for a line (a URL) is broken: after one of these, the last that fits.
BREAKS = "&/?;,"
NO_BREAK = "\xa0"
#: The longest text in parentheses kept on one line.
WHOLE_ASIDE = 30


def wrap_words(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width``, broken between words; a word longer than a line
    (a URL) after the last of BREAKS that fits — between a URL's parameters or its path's
    parts, not inside one — or, with none, at the width; a text in parentheses is kept whole
    where it fits a line."""
    # A short text in parentheses — "(profile web, seed 0)" — is one word: its spaces no-break
    # ones. A long one (a sentence's aside) wraps as any text does.
    kept = re.sub(r"\([^()]{0,%d}\)" % WHOLE_ASIDE, lambda group: group.group(0).replace(" ", NO_BREAK), text)
    lines = []
    for line in textwrap.wrap(kept, width, break_long_words=False, break_on_hyphens=False):
        while len(line) > width:
            cut = max(line.rfind(mark, 0, width) for mark in BREAKS) + 1 or width
            lines.append(line[:cut])
            line = line[cut:]
        lines.append(line)
    return [line.replace(NO_BREAK, " ") for line in lines]


@dataclass
class Wrapped:
    """A line of text (a report's title) wrapped to the width it is printed in by
    ``wrap_words``: never cut, a URL broken between its parts."""

    text: str
    style: str = ""
    #: Spaces before every line but the first (a bullet's hanging indent).
    hanging: int = 0

    def __rich_console__(self, console, options):
        from rich.text import Text

        for line in hanging_lines(self.text, options.max_width, self.hanging):
            yield Text(line, style=self.style, no_wrap=True)


def hanging_lines(text: str, width: int, hanging: int) -> list[str]:
    """``text`` wrapped by ``wrap_words`` to ``width``, every line but the first indented by
    ``hanging`` spaces (and wrapped that much narrower)."""
    first, *rest = wrap_words(text, width) or [""]
    if rest:
        rest = wrap_words(text[len(first):].lstrip(), width - hanging)
    return [first, *(" " * hanging + line for line in rest)]

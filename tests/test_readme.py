"""The README's examples are what loadtool prints: each block marked ``<!-- example -->``
is run again here on an 80x24 terminal and compared by its shape — its rows, words and
units, not its numbers (scripts/readme_examples.py, which also writes them). A report
that gains, loses or renames a row changes the README, or fails here. Blocks marked slow
(a crawl comparison, a plan's pilot) are left to the script."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

import readme_examples  # noqa: E402

EXAMPLES = readme_examples.examples(readme_examples.README.read_text(encoding="utf-8").split("\n"))


def test_the_readme_has_its_examples_marked():
    assert len(EXAMPLES) >= 10 and sum(not example.slow for example in EXAMPLES) >= 5
    first = EXAMPLES[0]
    assert first.commands == [["fetch", "--strategy", "async", "--count", "1010"]]  # the headline command


@pytest.mark.parametrize("example", [example for example in EXAMPLES if not example.slow],
                         ids=lambda example: " ".join(example.commands[0][:3]))
def test_an_example_is_what_loadtool_prints_now(example):
    difference = readme_examples.differences(example.shown, readme_examples.run(example))
    assert not difference, (f"README.md:{example.start + 1} is not what loadtool prints now "
                            f"(python scripts/readme_examples.py writes it):\n{difference}")


def test_the_shape_holds_the_words_and_not_the_numbers():
    shape = readme_examples.shape
    shown = ["wall time   1.15s   ideal 1.09s, efficiency 95%", "status      200 ×1,010",
             "  34.8ms [373] ■■■■■■■■"]
    assert shape(shown) == shape(["wall time 2.4s ideal 1s, efficiency 41%", "status  200 ×3", "1.2s [1] ■"])
    assert shape(["throughput  877 requests/s   29.5MiB/s"]) == shape(["throughput 1,012 requests/s 3.1KiB/s"])
    # A row gained, a phase named, a word changed: each a different shape.
    assert shape(shown) != shape(shown + ["encoding    none came compressed"])
    assert shape(["phases  connect 1ms   send 2µs"]) != shape(["phases  connect 1ms"])
    assert shape(["throughput  877 requests/s"]) != shape(["throughput  877 pages/s"])
    # Nor a table's rules, as wide as its widest number ("9.9ms" one run, "10.0ms" the next).
    assert shape(["┏━━━━━┳━━━━━━┓", "┃ step ┃ p50 ┃", "└─────┴──────┘"]) == \
        shape(["┏━━━━━━┳━━━━━┓", "┃ step ┃ p50 ┃", "└──────┴─────┘"])
    assert shape(["└─────┴──────┘"]) != shape(["└─────┴──────┴──────┘"])  # a column more is a shape
    # What a busier machine adds is not the report's shape.
    assert shape(["client CPU  86% of 1 core", "            — near the client's limit; for more, try", "     hybrid",
                  "status  200"]) == shape(["client CPU  50% of 1 core", "status  200"])
    assert shape(["client CPU  95% of 1 core", "            — the client was the bottleneck, so these", "   figures",
                  "status  200"]) == shape(["client CPU  50% of 1 core", "status  200"])
    # Nor is a machine without the compiled core (LOADTOOL_NO_EXTENSIONS=1): the first line says so.
    assert shape(["loadtool fetch · async (aiohttp) · 20 requests · 5 connections · pure Python", "target  x"]) == \
        shape(["loadtool fetch · async (aiohttp) · 20 requests · 5 connections", "target  x"])
    assert shape(["loadtool fetch · async (aiohttp) · 20 requests · 5 connections · pure", "target  x"]) != \
        shape(["loadtool fetch · async (aiohttp) · 20 requests · 5 connections", "target  x"])

"""The README's examples, written from real runs: each block marked ``<!-- example -->``
is run on an 80x24 terminal (tests/terminal.py) and its output put in the block.

    python scripts/readme_examples.py            # rewrite every marked block
    python scripts/readme_examples.py --check    # exit 1 when a block's report has changed
    python scripts/readme_examples.py --fast     # only the blocks not marked slow

A block is marked by an HTML comment on the line before its fence:

    <!-- example -->                  its "$ loadtool ..." lines say what to run
    <!-- example: loadtool ARGS -->   a block that shows only the output
    <!-- example slow -->             as the first, too slow for the test suite (a crawl
                                      of thousands of pages, a plan's pilot)

A check compares the report's shape, not its numbers: every number (with its unit) is
one placeholder, bars and the advice a busy machine adds are left out, and all
whitespace is one space, so a run that took 1.2 s where the README says 1.1 s passes,
and a report that gains, loses or renames a row fails
(tests/test_readme.py checks the fast blocks on every run of the suite).
"""

from __future__ import annotations

import argparse
import difflib
import re
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
MARK = re.compile(r"<!-- example(?P<slow> slow)?(?::\s*(?P<command>.+?))?\s*-->")
#: A number — with thousands separators, a decimal part, a sign — and the unit after it.
NUMBER = re.compile(r"[-+]?\d[\d,]*(?:\.\d+)?(?:[eE][-+]?\d+)?"
                    r"(?:ns|µs|us|ms|s|m|h|d|KiB|MiB|GiB|kB|MB|GB|B|x|%|/s)*")
#: Bars (a histogram's, a sparkline's, a progress bar's) are as long as their numbers (and
#: none for a count near 0).
BARS = re.compile(r"[■█░▁▂▃▄▅▆▇]+")
#: A table's rules are as wide as its widest number: each run of them is one rule.
RULES = re.compile(r"[─━═]+")
#: What a busier or quieter machine adds: advice when the client's CPU is near or at its limit;
#: and what a machine without the compiled core adds to a report's first line (loadtool.speedups).
VARIES = re.compile(r"\s+— (?:near the client's limit|the client was the bottleneck)\b.*?(?=\n\S|\Z)"
                    r"| · pure Python(?=\n|\Z| —)", re.S)


@dataclass
class Example:
    """One marked block: where it is in the README, what it runs, and what it shows."""

    start: int  # the index of its first line inside the fence
    end: int  # the index of its closing fence
    commands: list[list[str]]
    shown: list[str]
    slow: bool
    #: The "$ loadtool ..." lines, kept as the block's first lines.
    prompt: list[str]


def examples(lines: list[str]) -> list[Example]:
    found = []
    for index, line in enumerate(lines):
        mark = MARK.fullmatch(line.strip())
        if not mark:
            continue
        if not lines[index + 1].startswith("```"):
            raise SystemExit(f"README.md:{index + 1}: an example mark must be right above a ``` fence")
        start = index + 2
        end = next(at for at in range(start, len(lines)) if lines[at].startswith("```"))
        body = lines[start:end]
        prompt = _prompt(body)
        text = mark.group("command") or " ".join(line.removeprefix("$ ").rstrip("\\").strip() for line in prompt)
        parts = [shlex.split(part) for part in text.split(" && ")]
        if not text or any(not part or part[0] != "loadtool" for part in parts):
            raise SystemExit(f"README.md:{index + 1}: an example runs loadtool: {text!r}")
        commands = [part[1:] for part in parts]
        found.append(Example(start, end, commands, body[len(prompt):], bool(mark.group("slow")), prompt))
    return found


def _prompt(body: list[str]) -> list[str]:
    """The block's command lines: a "$ " line and the lines it continues with a backslash."""
    prompt = []
    for line in body:
        if not prompt and not line.startswith("$ "):
            break
        prompt.append(line)
        if not line.endswith("\\"):
            break
    return prompt


def run(example: Example) -> list[str]:
    """What the example's commands print on an 80x24 terminal (run from the repository, so
    its paths — examples/, scripts/ — are found)."""
    sys.path.insert(0, str(ROOT / "tests"))
    from terminal import printed

    out = []
    for args in example.commands:
        lines, code = printed(args, cwd=str(ROOT), timeout_s=600)
        if code not in (0, 1):
            raise SystemExit(f"loadtool {shlex.join(args)} exited {code}:\n" + "\n".join(lines))
        out += lines
    return out


def shape(lines: list[str]) -> str:
    """The report without its numbers and its layout (see the module's docstring)."""
    text = RULES.sub("─", BARS.sub("", VARIES.sub("", "\n".join(lines))))
    return " ".join(NUMBER.sub("#", re.sub(r"\[\s+", "[", text)).split())  # "[ 48]" is "[148]" aligned


def differences(shown: list[str], printed: list[str]) -> str:
    """Where the shapes differ, word by word ('' when they do not)."""
    before, after = shape(shown).split(" "), shape(printed).split(" ")
    if before == after:
        return ""
    return "\n".join(line for line in difflib.unified_diff(before, after, "README", "now", n=4, lineterm=""))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write; exit 1 on a difference")
    parser.add_argument("--fast", action="store_true", help="only the blocks not marked slow")
    options = parser.parse_args(argv)
    lines = README.read_text(encoding="utf-8").split("\n")
    changed = 0
    for example in reversed(examples(lines)):  # from the end, so earlier indexes hold
        if options.fast and example.slow:
            continue
        printed = run(example)
        difference = differences(example.shown, printed)
        where = f"README.md:{example.start + 1}"
        if options.check:
            if difference:
                changed += 1
                print(f"{where}: the report has changed:\n{difference}\n", file=sys.stderr)
            continue
        lines[example.start:example.end] = example.prompt + printed
        print(f"{where}: written{' (its shape changed)' if difference else ''}", file=sys.stderr)
    if not options.check:
        README.write_text("\n".join(lines), encoding="utf-8")
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main())

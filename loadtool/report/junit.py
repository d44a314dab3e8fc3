"""JUnit XML (``--junit FILE``): one testcase per threshold per strategy, for CI systems.

CI systems (GitHub Actions, GitLab, Jenkins) show JUnit test cases natively, so each
--fail-if threshold appears as its own passed or failed check, with the measured value
in the failure message and the report in the suite's output. With no threshold, one
testcase says whether the run did its work at all.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from collections.abc import Sequence



def to_junit(results: Sequence, verdicts: Sequence, report_text: str) -> str:
    suite = ElementTree.Element("testsuite", name="loadtool", timestamp=results[0].started_at if results else "")
    cases = 0
    for result in results:
        classname = f"loadtool.{result.job.kind}.{result.strategy}"
        mine = [verdict for verdict in verdicts if verdict.strategy == result.strategy]
        for verdict in mine or [None]:
            case = ElementTree.SubElement(suite, "testcase", classname=classname,
                                          name=verdict.threshold.text if verdict else "run did its work",
                                          time=f"{result.wall_s:.3f}")
            cases += 1
            failed = verdict.failed if verdict else (result.ops > 0 and result.ok == 0) or bool(result.interrupted)
            if failed:
                message = verdict.line if verdict else _why_not(result)
                ElementTree.SubElement(case, "failure", message=message, type="threshold" if verdict else "run")
    failures = len(suite.findall("testcase/failure"))
    suite.set("tests", str(cases))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    suite.set("time", f"{sum(result.wall_s for result in results):.3f}")
    ElementTree.SubElement(suite, "system-out").text = report_text
    ElementTree.indent(suite)
    return ElementTree.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"


def junit_file(results: Sequence, path: str, knee=None, verdicts: Sequence = ()) -> dict[str, str]:
    """``--junit FILE.xml``: the thresholds' verdicts, with the report as the suite's output."""
    from . import render_text

    plain = render_text(results, "table", knee=knee)
    return {path: to_junit(results, verdicts, plain)}


def _why_not(result) -> str:
    if result.interrupted:
        return f"interrupted by {result.interrupted}"
    return f"every operation failed; first error: {result.stats.first_error or 'see the statuses'}"

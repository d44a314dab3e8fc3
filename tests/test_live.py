"""--live, seen as a user sees it: loadtool on a pseudo-terminal of 80x24, its output fed to a
terminal emulator (pyte), the screen read as the run goes and after it ends."""

from __future__ import annotations

import json
import re

from terminal import on_a_terminal

COUNT = 300


def test_the_live_view_changes_as_the_run_goes_and_leaves_the_report(server):
    screens, final, code = on_a_terminal(["fetch", "--live", "--server", server.base_url, "/delay/100",
                                          "-n", str(COUNT), "-c", "10"])
    assert code == 0
    live = [screen for screen in screens if "whole run" in screen]
    done = [int(match.group(1).replace(",", "")) for screen in live
            if (match := re.search(rf"([\d,]+) of {COUNT} \(", screen))]
    assert len(set(done)) >= 3, "the view never showed the run moving"
    assert done == sorted(done)  # counts only go forward
    assert any(re.search(r"p99 \d", screen) and "status" in screen and "in flight" in screen for screen in live)
    assert all(max(map(len, screen.splitlines()), default=0) <= 80 for screen in live)
    # The view steps aside for the report, which stays on the screen.
    assert re.search(rf"ok\s+{COUNT} of {COUNT} \(100\.0%\)", final) and "whole run" not in final


def test_a_dumb_terminal_gets_the_progress_line_not_the_view(server):
    """TERM=dumb cannot redraw: the progress comes as a line every few seconds, kept."""
    screens, final, code = on_a_terminal(["fetch", "--live", "--server", server.base_url, "/delay/100",
                                          "-n", "300", "-c", "10"], term="dumb")
    assert code == 0 and not any("whole run" in screen for screen in screens)
    assert re.search(r"async .*\d+/300 .*ops/s .*ETA", final), final
    assert re.search(r"ok\s+300 of 300", final)


def test_live_with_q_shows_the_view_and_no_report(server):
    """-q quiets standard output; the view, asked for by name, is on stderr."""
    screens, final, code = on_a_terminal(["fetch", "--live", "-q", "--server", server.base_url, "/delay/100",
                                          "-n", "200", "-c", "10"])
    assert code == 0 and any("whole run" in screen for screen in screens)
    assert not re.search(r"ok\s+200 of 200", final)


def test_a_sweeps_view_names_its_level_and_each_level_leaves_a_line(server):
    screens, final, code = on_a_terminal(["sweep", "--live", "--server", server.base_url, "/delay/50",
                                          "-c", "1,2,4", "-n", "40"])
    assert code == 0
    live = [screen for screen in screens if "whole run" in screen]
    assert any("loadtool sweep · concurrency 1 (1 of 3)" in screen for screen in live)
    assert not any(screen.startswith("loadtool fetch") for screen in live)
    for screen in live:  # a rate and operations in flight from the first frame with an operation done
        done = re.search(r"([\d,]+) of 40 \(", screen)
        if done and int(done.group(1)) > 0:
            assert "now 0 " not in screen and "in flight   0 of" not in screen, screen
    kept = "\n".join(screens[-1:] + [screen for screen in screens if "(3 of 3) ·" in screen][:1])
    for level in (1, 2, 3):  # the levels done stay on the screen, a line each
        assert re.search(rf"sweep · concurrency \d \({level} of 3\) · async \(aiohttp\).*: 40 in", kept), kept


def test_plans_pilot_is_shown_its_table_fits_80_columns_and_o_writes_the_file(tmp_path):
    """One plan on a terminal: a line during its pilot; then, with -o, the file written and
    the table still shown (a file named is not a format asked for), at 80 columns, with what
    politeness allows and how long the pilot took."""
    scrolled = []
    screens, final, code = on_a_terminal(["plan", "--pages", "100k", "--pilot", "1s", "--profile", "api",
                                          "--hosts", "50", "--per-host-rate", "10/s",
                                          "-o", str(tmp_path / "plan.json")], scrolled=scrolled)
    assert code == 0
    assert any(re.search(r"plan · pilot .* measuring \w+ \(\w+\) · [\d,]+ in flight", screen) for screen in screens)
    assert json.loads((tmp_path / "plan.json").read_text())["schema"] == "loadtool.plan/1"
    printed = "\n".join(scrolled + [final])
    # Capacity levels and ways of at least 0.5 s each: more than a 1 s pilot, and said.
    assert re.search(r"^loadtool plan · 100,000 pages · pilot 1s \(took [\d.]+s\)", printed, re.M)
    assert "Politeness over 50 hosts caps the whole job at 500 pages/s" in " ".join(printed.split())
    assert "politeness" in printed  # a way bound by it
    table = printed[printed.index("way "):]
    assert "…" not in table and "total time" in table and max(map(len, table.splitlines())) <= 80
    bullets = table[table.index("assumptions:"):].splitlines()[1:]
    assert bullets[0].startswith("• ") and all(line.startswith(("• ", "  ")) for line in bullets if line)


def test_a_run_with_checks_and_a_long_url_fits_80_columns_and_splits_no_item(server):
    url = server.url("/page/{i}?" + "&".join(f"parameter{k}=value{k}" for k in range(8)))
    screens, final, code = on_a_terminal(["fetch", url, "-n", "50", "-c", "5", "--check", "status == 200",
                                          "--check", "time < 60ms", "--check", "header Content-Type ~ html"])
    assert code in (0, 1) and "…" not in final
    lines = final.splitlines()
    target = lines[lines.index(next(line for line in lines if line.startswith("target"))):]
    target = target[:next(index for index, line in enumerate(target[1:], 1) if not line.startswith(" "))]
    assert "".join(line[13:] for line in target) == url  # the whole URL, broken after its '&'s
    assert all(line.endswith("&") for line in target[:-1])
    checks = lines[next(index for index, line in enumerate(lines) if line.startswith("checks")):][:3]
    names = ("status == 200", "time < 60ms", "header Content-Type ~ html")
    for line, name in zip(checks, names):  # each check on its line, its rate beside it
        assert re.fullmatch(rf"(checks)?\s+\d+\.\d%\s+{re.escape(name)}(\s+\([\d,]+ failed\))?", line), line


def test_the_view_of_a_run_without_an_end_and_of_a_timed_one():
    """A crawl with no page limit (no count, no duration) and a -d run: the rows say what is
    known, with no division by what is not."""
    from types import SimpleNamespace

    from loadtool.report.live import Frame, rows

    frame = Frame(ops=120, failed=2, elapsed_s=3.0, per_second=[40, 40, 40], recent_ms=None, whole_ms=None,
                  status={200: 118, 404: 2}, errors={}, in_flight=9.6, behind_s=0.004)
    layout = SimpleNamespace(in_flight=10)
    endless = dict(rows(SimpleNamespace(count=None, duration_s=None, kind="fetch"), layout, frame))
    assert "120 so far" in endless["progress"] and "ETA -" in endless["progress"]
    timed = dict(rows(SimpleNamespace(count=None, duration_s=10.0, kind="fetch"), layout, frame))
    assert "ETA 7s" in timed["progress"] and "behind schedule by up to 4ms" in timed["in flight"]
    assert "200 ×118" in timed["status"]

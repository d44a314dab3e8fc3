"""--live, seen as a user sees it: loadtool on a pseudo-terminal of 80x24, its output fed to a
terminal emulator (pyte), the screen read as the run goes and after it ends."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time

import pyte

COUNT = 300


def on_a_terminal(args: list[str], term: str = "xterm-256color") -> tuple[list[str], str, int]:
    """Run loadtool on an 80x24 pseudo-terminal; returns each screen drawn (as it was after
    each read), the last screen, and the exit code."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = {**os.environ, "TERM": term, "COLUMNS": "80", "LINES": "24"}
    env.pop("NO_COLOR", None)
    process = subprocess.Popen([sys.executable, "-m", "loadtool", *args], stdin=slave, stdout=slave, stderr=slave,
                               env=env, close_fds=True)
    os.close(slave)
    screen = pyte.Screen(80, 24)
    stream = pyte.ByteStream(screen)
    screens = []
    deadline = time.monotonic() + 90
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1.0)
            if not ready:
                if process.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the process ended and closed the terminal
                break
            if not chunk:
                break
            stream.feed(chunk)
            screens.append("\n".join(line.rstrip() for line in screen.display))
        code = process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(master)
    return screens, screens[-1] if screens else "", code


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
    screens, final, code = on_a_terminal(["fetch", "--live", "--server", server.base_url, "/delay/100",
                                          "-n", "30", "-c", "10"], term="dumb")
    assert code == 0 and not any("whole run" in screen for screen in screens)
    assert re.search(r"ok\s+30 of 30", final)


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

"""loadtool on a terminal, as a user sees it: a pseudo-terminal of 80x24 whose output a
terminal emulator (pyte) reads. The tests of screens use it, and so does
scripts/readme_examples.py, which writes the README's examples from real runs."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time

import pyte

WIDTH, HEIGHT = 80, 24


def on_a_terminal(args: list[str], term: str = "xterm-256color", scrolled: list | None = None,
                  cwd: str | None = None, timeout_s: float = 90) -> tuple[list[str], str, int]:
    """Run loadtool on an 80x24 pseudo-terminal; returns each screen drawn (as it was after
    each read), the last screen, and the exit code (``scrolled``, given a list: the lines
    that scrolled off the top go in it)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", HEIGHT, WIDTH, 0, 0))
    env = {**os.environ, "TERM": term, "COLUMNS": str(WIDTH), "LINES": str(HEIGHT)}
    env.pop("NO_COLOR", None)
    process = subprocess.Popen([sys.executable, "-m", "loadtool", *args], stdin=slave, stdout=slave, stderr=slave,
                               env=env, close_fds=True, cwd=cwd)
    os.close(slave)
    screen = pyte.HistoryScreen(WIDTH, HEIGHT, history=10_000)
    stream = pyte.ByteStream(screen)
    screens = []
    deadline = time.monotonic() + timeout_s
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
    if scrolled is not None:
        scrolled += ["".join(line[column].data for column in range(WIDTH)).rstrip() for line in screen.history.top]
    return screens, screens[-1] if screens else "", code


def printed(args: list[str], cwd: str | None = None, timeout_s: float = 90) -> tuple[list[str], int]:
    """Every line loadtool printed on the terminal (what scrolled off the top, then the last
    screen), without the empty lines at the end; and the exit code."""
    scrolled: list[str] = []
    _, final, code = on_a_terminal(args, scrolled=scrolled, cwd=cwd, timeout_s=timeout_s)
    lines = scrolled + final.splitlines()
    while lines and not lines[-1]:
        lines.pop()
    return lines, code

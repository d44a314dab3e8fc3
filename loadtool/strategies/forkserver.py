"""Preloaded into multiprocessing's fork server (see ``processes.context``): there, ignore
SIGTERM, as the fork server already ignores SIGINT.

Every worker process of processes, hybrid and a partitioned crawl is forked from the fork
server, and asks to be killed when it dies (``die_with_parent``). A SIGTERM to the whole
process group — ``timeout``, systemd's stop, a CI job cancelled — would otherwise kill the
fork server at once, and with it every worker, before the run could stop them gracefully
and report what they measured. The fork server still ends when loadtool does: it exits
when its last client closes the pipe that keeps it alive.

Imported anywhere else, this module does nothing.
"""

from __future__ import annotations

import signal
import sys


def _in_fork_server() -> bool:
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == "main" and frame.f_globals.get("__name__") == "multiprocessing.forkserver":
            return True
        frame = frame.f_back
    return False


if _in_fork_server():
    signal.signal(signal.SIGTERM, signal.SIG_IGN)

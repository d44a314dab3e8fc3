"""sequential: one worker, one requests.Session, one operation at a time — the baseline.

The worker runs in a thread of its own, so that after Ctrl-C the main thread can stop
waiting for an operation that hangs once the grace period is over.
"""

from __future__ import annotations

from ..work import Recorder
from .common import run_sync_workers


def run(job, recorder: Recorder) -> None:
    run_sync_workers(job, recorder, workers=1)

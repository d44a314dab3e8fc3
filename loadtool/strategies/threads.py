"""threads: C threads of a ThreadPoolExecutor, a requests.Session each, pulling from one Work.

C long-lived workers, not a future per operation: memory stays the same at any count.
The GIL lets one thread run Python at a time, but a thread waiting on a socket
releases it, so C threads overlap C waits.
"""

from __future__ import annotations

from ..work import Recorder
from .common import run_sync_workers


def run(job, recorder: Recorder) -> None:
    run_sync_workers(job, recorder, workers=job.concurrency)

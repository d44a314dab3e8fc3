"""One process's share of a job, run with the async strategy (a hybrid process, a dask worker).

The share follows the run's stop from outside (a multiprocessing or dask Event) and
has the run's grace period of its own; its counts go back to whoever started it, as
encoded Stats (and --raw records), every SHIP_S when asked (hybrid: progress stays live) and at the end.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from .control import RunControl
from ..metrics.sink import Sink
from ..system import peak_rss_bytes
from .asyncio import STRATEGY as ASYNC

#: How often a share hands its counts onwards, when it does (hybrid).
SHIP_S = 0.25


def run_share(job, epoch: float, wait_outside: Callable[[float], bool], reason: str,
              ship: Callable[[dict], None] | None = None,
              cpu_clock: Callable[[], float] = time.process_time) -> dict:
    """Run ``job`` (one share of a run) with the async strategy in this process and return
    what it counted, encoded (``Sink.close_wire``). With ``ship``, counts so far are handed
    to it every SHIP_S (encoded the same way), and what is returned holds only the rest."""
    control, sink = RunControl(job.grace_s), Sink(job.rate is not None, epoch, records=job.records)
    end_follow = control.follow(wait_outside, reason)
    done = threading.Event()

    def send_counts() -> None:
        while not done.wait(SHIP_S):
            wire = sink.take_wire()
            if wire is not None:
                ship(wire)

    shipper = threading.Thread(target=send_counts, daemon=True) if ship is not None else None
    if shipper is not None:
        shipper.start()
    cpu_start = cpu_clock()
    try:
        ASYNC.run(job, ASYNC.layout(job), control, sink)
    finally:
        done.set()
        end_follow()
        if shipper is not None:
            shipper.join()
    return sink.close_wire(cpu_clock() - cpu_start, peak_rss_bytes())

"""sequential: one worker, one session, one operation at a time — the baseline.

The worker runs in a thread of its own, so that after Ctrl-C the main thread can stop
waiting for an operation that hangs once the grace period is over.
"""

from __future__ import annotations

from . import Layout, Scale, Strategy
from .threads import run_in_threads


class Sequential(Strategy):
    name = "sequential"
    scale = Scale(max_workers=1)

    def layout(self, job) -> Layout:
        return Layout(in_flight=1)

    def run(self, job, layout, control, sink) -> None:
        run_in_threads(job, control, sink, workers=1)


STRATEGY = Sequential()

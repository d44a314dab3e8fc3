"""sequential: one requests.Session, one operation at a time — the baseline."""

from __future__ import annotations

from ..ops import io_for
from ..work import Recorder, Work
from .common import sync_worker


def run(job, recorder: Recorder) -> None:
    io = io_for(job)
    work = Work(job, recorder.stopping, recorder.epoch)
    with io.session() as session:
        sync_worker(work, io, session, recorder.record)

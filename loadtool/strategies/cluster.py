"""cluster: the job spread over a dask.distributed cluster, each worker an async loop.

When a job outgrows one machine, the same Job runs on many: its operations are cut into
slices (operation k of slice i when k ≡ i mod S, so an open-model rate splits evenly),
each slice is a dask task that runs the async strategy on a worker and returns encoded
Stats, and the client merges them as they arrive. A stop (Ctrl-C, the deadline) reaches
every worker through a dask Event. dask reruns the slices of a worker that dies; the
report names the lost worker and the slices rerun, and says how many operations each
worker did, so nothing is silently missing from the totals.
"""

from __future__ import annotations

import logging
import signal
import time
import uuid
from contextlib import ExitStack

from . import Layout, Scale, Strategy, multiplexed, streams, wanted
from .share import run_share

#: With a fixed count (and no rate), each worker gets this many slices in turn, so
#: progress shows as slices finish and a lost worker costs less to rerun.
SLICES_PER_WORKER = 4


def _run_slice(job, epoch: float, stop_name: str) -> dict:
    """On a dask worker: run one slice with the async strategy; return what it counted, encoded."""
    from distributed import Event, get_client, get_worker

    # The Event is waited on from the stop-watching thread, outside the task's context: it
    # needs its client given (else every wait raises, and the slice never hears a stop).
    stop = Event(stop_name, client=get_client())
    # thread_time: a dask worker process runs other threads (its own), not ours to count.
    counted = run_share(job, epoch, stop.wait, "cluster", cpu_clock=time.thread_time)
    return {"worker": get_worker().address, "slice": job.share.index, "counted": counted}


def connect(job, stack: ExitStack):
    from distributed import Client, LocalCluster

    if job.cluster.local:
        # dashboard ":0": a free loopback port (None would mean dask's default, 8787, often taken)
        cluster = stack.enter_context(LocalCluster(
            n_workers=job.cluster.local, threads_per_worker=1, processes=True, dashboard_address=":0",
            silence_logs=logging.ERROR))
        client = stack.enter_context(Client(cluster))
        # Our own workers, in our process group: a SIGTERM to the group (timeout, systemd) is
        # the run's to handle — it stops the slices through the stop Event and they report.
        # Left to dask, each worker starts closing on it and its slice never hears the stop.
        client.run(_leave_sigterm_to_the_run)
        return client
    try:
        # --connect-timeout bounds reaching the scheduler too.
        wait_s = job.fetch.connect_timeout_s if job.fetch is not None else 10.0
        return stack.enter_context(Client(job.cluster.scheduler, timeout=f"{wait_s:g}s"))
    except OSError as exc:
        raise RuntimeError(f"cannot reach the dask scheduler at {job.cluster.scheduler}: {exc}") from None


def _leave_sigterm_to_the_run() -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # client.run calls this on the worker's main thread


def warm(engine: str) -> bool:
    """On every worker, before the clock starts: import what a slice needs (aiohttp and
    uvloop take a tenth of a second to import, which would count as lateness)."""
    from .. import engines
    from . import share as _  # noqa: F401

    engines.engine_class(engine)
    return True


def _rerun(dask_scheduler, keys: list[str]) -> dict[str, int]:
    """On the scheduler: how many times a worker died holding each task (dask reruns them)."""
    return {key: dask_scheduler.tasks[key].suspicious for key in keys if key in dask_scheduler.tasks}


def _layout(job, workers: int, why: str = "") -> Layout:
    per_slice = max(wanted(job) // workers, 1)
    return Layout(in_flight=per_slice * workers, processes=workers, connections=-(-per_slice // streams(job)),
                  streams=streams(job), multiplexed=multiplexed(job),
                  cores=job.cluster.local or 1, why=why, unit="coroutine" if job.kind == "run" else "connection")


class Cluster(Strategy):
    name = "cluster"
    crosses_processes = True
    scale = Scale(max_workers=40_000, all_cores=True, memory_per_process=True)

    def layout(self, job) -> Layout:
        """The layout as planned; with a remote scheduler the workers are known only once
        connected, and ``run`` returns the layout it used."""
        if job.cluster.local:
            return _layout(job, job.cluster.local)
        return Layout(in_flight=wanted(job), connections=wanted(job),
                      why="spread over the dask scheduler's workers")

    def run(self, job, layout, control, sink) -> Layout:
        from distributed import Event, as_completed

        with ExitStack() as stack:
            client = connect(job, stack)
            workers = len(client.scheduler_info()["workers"])
            if not workers:
                raise RuntimeError("the dask cluster has no workers")
            plain = job.count is not None and job.rate is None
            slices = workers * (SLICES_PER_WORKER if plain else 1)
            layout = _layout(job, workers, f"dask workers, {slices} slices")
            stop_name = f"loadtool-stop-{uuid.uuid4().hex}"
            end_forward = control.forward(Event(stop_name, client=client).set)
            spec = getattr(job.targets, "spec", None)
            if spec:  # an operation of the user's own: its file goes to the workers, not assumed on their disks
                client.upload_file(spec.rpartition(":")[0], load=False)
            client.run(warm, job.engine)
            before = sink.epoch
            sink.restart_clock()  # the cluster is up and warm: the schedule starts now
            # Not the job's time: reported apart, and left out of the wall time (with the stop, below).
            sink.details["startup_s"] = sink.epoch - before
            futures = {}
            for index in range(slices):
                futures[client.submit(_run_slice, layout.part(job, index, of=slices), sink.epoch, stop_name, pure=False,
                                      key=f"loadtool-slice-{index}-{stop_name[-8:]}")] = index
            started = set(client.scheduler_info()["workers"])
            done_by: dict[str, int] = {}
            lost_slices: list[dict] = []
            try:
                for future in as_completed(futures):
                    try:
                        outcome = future.result()
                    except Exception as exc:  # noqa: BLE001 - a slice that could not be done is reported
                        lost_slices.append({"slice": futures[future], "error": f"{type(exc).__name__}: {exc}"[:200]})
                        continue
                    sink.merge_wire(outcome["counted"])
                    ops = outcome["counted"]["stats"]["counts"]["ops"]
                    done_by[outcome["worker"]] = done_by.get(outcome["worker"], 0) + ops
            finally:
                end_forward()
                finished = time.time()
            # Asked while the futures are still held, so the scheduler still knows the tasks.
            deaths = client.run_on_scheduler(_rerun, keys=[future.key for future in futures])
            sink.details["cluster"] = {
                "scheduler": client.scheduler.address, "workers": workers, "slices": slices,
                "ops_by_worker": dict(sorted(done_by.items())),
                "lost_workers": sorted(started - set(client.scheduler_info()["workers"])),
                "rerun_slices": sorted(futures[future] for future in futures if deaths.get(future.key)),
                "lost_slices": lost_slices,
            }
        sink.details["stop_s"] = time.time() - finished  # the cluster (or the client) closed
        return layout


STRATEGY = Cluster()

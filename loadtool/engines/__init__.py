"""Engines: one operation's I/O behind one protocol, and nothing else.

An engine opens and closes a session (a requests Session, an aiohttp ClientSession, a
read buffer, a thread pool) and makes one attempt at a target within ``Limits``,
returning an ``Outcome``. Deadlines, retries, error kinds and Samples are the
policy's (``engines.policy``), for every engine alike. Engines come in four styles,
by how their I/O waits (the registry, ``names.ENGINE_CLASSES``, says each one's):

- ``sync``: ``attempt(session, target, limits) -> Outcome`` blocks (requests, file reads);
  run by threads and processes.
- ``async``: the same as a coroutine (aiohttp, aiofiles); run by C coroutines on a loop.
- ``multi``: a pool of slots that runs many attempts at once by itself (libcurl's multi
  interface), driven from a thread of its own by ``strategies.multi``.
- ``loop``: callbacks on the event loop with no coroutine per request (the fast engine);
  ``channel(loop, worker)`` gives each worker (``callbacks.Worker``) a channel whose
  ``start(target)`` ends in ``worker.answered(status, nbytes)`` or
  ``worker.failed(error, detail)``; the driver sweeps deadlines (``Policy.expired``) and
  calls ``channel.abort()``.

Engines are named by what users type (``--engine fast``), registered with their style
and the HTTP versions they speak in ``names.ENGINE_CLASSES``, and imported only when used.
"""

from __future__ import annotations

import importlib
from typing import Any

from ..names import ENGINE_CLASSES, speaking, strategies_running



def engine_class(name: str) -> type:
    """The class of engine ``name`` (importing its module: do it before a run's clock starts)."""
    entry = ENGINE_CLASSES[name]
    module, attribute = entry.module, entry.cls
    return getattr(importlib.import_module(f"{__name__}.{module}"), attribute)


def load(name: str, job) -> Any:
    """The engine ``name``, set up for ``job``."""
    return engine_class(name)(job)


def refusal(job) -> str | None:
    """Why the job's engine cannot run the job (a usage error), or None."""
    engine = engine_class(job.engine)
    if job.fetch is not None and job.fetch.http not in ENGINE_CLASSES[job.engine].speaks:
        speakers = speaking(job.fetch.http)
        return (f"--http {job.fetch.http} needs --engine {' or '.join(speakers)} (with --strategy "
                f"{', '.join(strategies_running(speakers))})")
    if job.fetch is not None and job.fetch.streams > 1 and job.fetch.http == "1.1":
        return "--streams goes with --http 2 or 3 (HTTP/1.1 has one request in flight per connection)"
    refuses = getattr(engine, "refuses", None)
    return None if refuses is None else refuses(job)


def style(name: str) -> str:
    """How a strategy drives engine ``name``: sync, async, multi or loop (names.WAITS)."""
    return ENGINE_CLASSES[name].style

"""Raw records (``--raw FILE.csv`` or ``FILE.jsonl``): one line per operation, as it happens.

hey writes every request as CSV; vegeta encodes every result. Each record holds the
operation's index and target, when it was first sent and (open model) when it was due,
its latency and service time, status or error kind, bytes and attempts (RECORD_FIELDS).
Records are handed over in batches and written by a thread of their own behind a
bounded queue, so memory stays flat however long the run: when the disk is slower than
the run, the run waits for it rather than piling records up.
"""

from __future__ import annotations

import csv
import json
import os
import queue
import threading
from typing import IO

from ..errors import UsageError
from ..metrics import RECORD_FIELDS

#: Batches of records waiting for the writer, at most (a batch is one Sample, a range of
#: a worker process, or a quarter second of a hybrid process).
QUEUE_BATCHES = 256
FORMATS = {".csv": "csv", ".jsonl": "jsonl"}


def raw_format(path: str) -> str:
    """The format a --raw path asks for, by its extension; UsageError for any other."""
    ext = os.path.splitext(path)[1].lower()
    if ext not in FORMATS:
        raise UsageError(f"--raw {path!r}: the file name must end in .csv or .jsonl")
    return FORMATS[ext]


class RawWriter:
    """Writes records to a file from a thread of its own. Open it before the run (a path
    that cannot be written is a usage error then, not a lost run), ``put`` batches during
    it, ``close`` after it."""

    def __init__(self, path: str, runs: bool = False) -> None:
        """With ``runs`` (compare, sweep), each record starts with the run it belongs to
        (``run``: the strategy, or ``c16`` for a sweep level): one file for all of them."""
        self.path, self.format = path, raw_format(path)
        self.fields = ("run", *RECORD_FIELDS) if runs else RECORD_FIELDS
        try:
            self._file: IO[str] = open(path, "w", encoding="utf-8", newline="")
        except OSError as exc:
            raise UsageError(f"--raw: cannot write {path}: {exc.strerror or exc}") from None
        self.written = 0
        self._queue: queue.Queue[list[tuple] | None] = queue.Queue(QUEUE_BATCHES)
        self._csv = csv.writer(self._file, lineterminator="\n") if self.format == "csv" else None
        if self._csv is not None:
            self._csv.writerow(self.fields)
        self._thread = threading.Thread(target=self._drain, name="loadtool-raw", daemon=True)
        self._thread.start()

    def put(self, records: list[tuple]) -> None:
        """Hand a batch of records over (blocks while the writer is QUEUE_BATCHES behind)."""
        if records:
            self._queue.put(records)

    def for_run(self, run: str):
        """A ``put`` for the records of one run of several, each marked with ``run``."""
        def put(records: list[tuple]) -> None:
            if records:
                self._queue.put([(run, *record) for record in records])
        return put

    def _drain(self) -> None:
        while (batch := self._queue.get()) is not None:
            if self._csv is not None:
                self._csv.writerows(batch)
            else:
                self._file.writelines(json.dumps(dict(zip(self.fields, record))) + "\n" for record in batch)
            self.written += len(batch)

    def close(self) -> None:
        """Write what is queued and close the file."""
        self._queue.put(None)
        self._thread.join()
        self._file.close()

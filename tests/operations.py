"""Operations of the tests' own, for loadtool run (tests/test_operations.py): each a small
case of what users write."""

import asyncio
import threading
import time

import loadtool

LIFE = {"entered": 0, "exited": 0, "called": 0}
_LOCK = threading.Lock()


def every_tenth_fails(i):
    with loadtool.step("work"):
        if i % 10 == 9:
            raise ValueError(f"operation {i} would not")


async def sleeps_blocking(i):
    time.sleep(0.01)  # blocks the event loop: the tutorial's mistake


async def awaits(i):
    await asyncio.sleep(0.001)


async def noop(i):
    pass


def late(i):
    time.sleep(0.3 if i % 2 else 0.0)


class Lives:
    """Counts its workers' lives: entered once each before their first operation, exited once
    after their last, whatever happened in between."""

    def __enter__(self):
        with _LOCK:
            LIFE["entered"] += 1
        return self

    def __exit__(self, *exc_info):
        with _LOCK:
            LIFE["exited"] += 1

    def __call__(self, i):
        with _LOCK:
            LIFE["called"] += 1
        if i == 3:
            raise RuntimeError("an error does not skip __exit__")

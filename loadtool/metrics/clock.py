"""The clocks every measurement reads: ``now()`` is ``time.perf_counter()`` and ``wall()``
``time.time()``, in seconds.

The per-request path reads it four times a request (when an attempt starts, when its
request is written, its first byte, its end). A compiled module that cimports this one in
its .pxd (``from loadtool.metrics cimport clock``, beside ``from ..metrics import clock``
in its .py) calls ``clock.now()`` as C: clock.pxd declares it as CPython's own perf
counter, so the same clock and the same values, without a Python call and a float object
per reading (and ``clock.wall()``, which Stats reads once an operation, as its system
clock). Run as Python, and for every caller that is not compiled, they are time's own.
"""

from time import perf_counter as now
from time import time as wall

__all__ = ["now", "wall"]

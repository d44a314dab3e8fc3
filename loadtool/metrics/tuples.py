"""The NamedTuples made once or more per operation (Op, Attempt, Sample, Outcome), built from
a tuple of their fields: ``make(Sample, fields)`` is ``tuple.__new__(Sample, fields)``.

Calling a NamedTuple runs its Python ``__new__`` (2.5x the cost of tuple.__new__), so the
hot paths call tuple's own; tuple.__new__ in turn parses its arguments and copies the
fields into the new record. A compiled module that cimports this one in its .pxd (``from
loadtool.metrics cimport tuples``, beside ``from ..metrics import tuples`` in its .py)
calls ``tuples.make`` as C: tuples.pxd declares it as the allocation and the copy alone,
the same record. Run as Python, and for every caller that is not compiled, it is
tuple.__new__.
"""

from __future__ import annotations

__all__ = ["make"]

#: make(cls, fields): a record of the NamedTuple class ``cls`` holding ``fields`` (a tuple).
make = tuple.__new__

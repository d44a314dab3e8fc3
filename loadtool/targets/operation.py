"""The user's own operation as a run's targets: ``FILE.py:NAME``, or a function or class
given to the library.

Operation *k* is the call ``NAME(k)`` (a function), or ``obj(k)`` on the worker's own
instance of a class NAME. The source hands out only indices, so it holds nothing per
operation; it travels to other processes by the file's path (each worker imports the
file itself) or, for the library's objects, by reference (a top-level function of an
importable module), never by value.
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import sys
from dataclasses import dataclass, field, replace
from itertools import count as count_from
from typing import Any

from ..errors import UsageError

#: Where an operation finds the server it was told of (--server, --fixture).
SERVER_VARIABLE = "LOADTOOL_SERVER"
#: Modules loaded from files by path in this process, by path and the server they were told
#: of: a file is executed once for each.
_LOADED: dict[tuple[str, str | None], Any] = {}


@dataclass(frozen=True)
class Operation:
    """What to call for each operation, and how (``is_async``: a coroutine function, or a class
    whose ``__call__`` is one; ``is_class``: an instance per worker)."""

    #: ``path/to/file.py:NAME``, or None for the library's object.
    spec: str | None
    obj: Any = field(default=None, compare=False, repr=False)
    is_async: bool = False
    is_class: bool = False
    #: The server the operation is told of (``LOADTOOL_SERVER`` in its environment): --server,
    #: or the bundled fixture server's once it runs (``fixture``: start it for the run).
    server: str | None = None
    fixture: bool = False

    @classmethod
    def of(cls, given: Any) -> Operation:
        """An Operation from ``FILE.py:NAME`` or from a function or class; UsageError if it
        cannot be one."""
        if isinstance(given, str):
            obj = load_spec(given)
            spec = f"{os.path.abspath(given.rpartition(':')[0])}:{given.rpartition(':')[2]}"
        else:
            obj, spec = given, None
        if inspect.isclass(obj):
            call = getattr(obj, "__call__", None)
            if call is None or call is object.__call__:
                raise UsageError(f"{_name(obj)} is a class with no __call__: an operation is called as obj(i)")
            return cls(spec, None if spec else obj, inspect.iscoroutinefunction(call), True)
        if not callable(obj):
            raise UsageError(f"{_name(obj)} is not a function or a class: an operation is called as NAME(i)")
        return cls(spec, None if spec else obj, inspect.iscoroutinefunction(obj), False)

    def load(self) -> Any:
        """The function or class (loading its file, by path, once in this process), with the
        server it is told of in ``LOADTOOL_SERVER``."""
        if self.server:
            os.environ[SERVER_VARIABLE] = self.server
        return self.obj if self.spec is None else load_spec(self.spec)

    def bind(self, base_url: str) -> Operation:
        """This operation told of the fixture server running at ``base_url``."""
        return replace(self, server=base_url.rstrip("/"), fixture=False)

    @property
    def name(self) -> str:
        return self.spec.rpartition(":")[2] if self.spec else _name(self.obj)

    # -- a target source, as every other -------------------------------------------------------

    def distinct(self) -> int | None:
        return None

    def iter_from(self, start: int, stop: int | None):
        """(index, index): the operation's target is its index."""
        indices = count_from(start) if stop is None else range(start, stop)
        return zip(indices, indices if stop is not None else count_from(start))

    def latency_s(self, index: int) -> float | None:
        return None

    def describe(self) -> dict[str, Any]:
        return {"kind": "operation", "name": self.name, "spec": self.spec, "async": self.is_async,
                "class": self.is_class}

    def label(self) -> str:
        what = ("an async " if self.is_async else "a ") + ("class" if self.is_class else "function")
        return f"{_shown(self.spec) if self.spec else self.name} ({what})"


def is_operation(text: str) -> bool:
    """Whether a command-line target names an operation of the user's own: FILE.py:NAME."""
    path, sep, name = text.rpartition(":")
    return bool(sep) and path.endswith(".py") and name.isidentifier()


def _uploaded(path: str) -> str | None:
    """On a dask worker, the copy of ``path`` the run uploaded to it (client.upload_file), if any."""
    if "distributed" not in sys.modules:
        return None
    try:
        from distributed import get_worker

        copy = os.path.join(get_worker().local_directory, os.path.basename(path))
    except (ImportError, ValueError):  # not on a worker
        return None
    return copy if os.path.isfile(copy) else None


def _shown(spec: str) -> str:
    """``FILE.py:NAME`` as a user would type it here: the path relative to the working
    directory when the file is under it."""
    path, _, name = spec.rpartition(":")
    relative = os.path.relpath(path)
    return f"{path if relative.startswith('..') else relative}:{name}"


def _name(obj: Any) -> str:
    return getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None) or repr(obj)


def load_spec(spec: str) -> Any:
    """NAME from FILE.py, for ``FILE.py:NAME``: the file is executed once per process, as a
    module of its own (its directory on sys.path while it loads, for its own imports)."""
    path, sep, name = spec.rpartition(":")
    if not sep or not path or not name.isidentifier():
        raise UsageError(f"an operation is named FILE.py:NAME (a function or class in FILE.py), not {spec!r}")
    path = os.path.abspath(path)
    if not os.path.isfile(path):
        path = _uploaded(path) or path
    if not os.path.isfile(path):
        raise UsageError(f"no such file: {path} (an operation is named FILE.py:NAME)")
    # Loaded again once told of another server: a module may read LOADTOOL_SERVER as it loads.
    key = (path, os.environ.get(SERVER_VARIABLE))
    module = _LOADED.get(key)
    if module is None:
        module_name = "loadtool_operation_" + "".join(c if c.isalnum() else "_" for c in path)
        loader = importlib.util.spec_from_file_location(module_name, path)
        if loader is None or loader.loader is None:
            raise UsageError(f"cannot load {path} as Python")
        module = importlib.util.module_from_spec(loader)
        sys.modules[module_name] = module  # so its functions pickle by reference in this process
        directory = os.path.dirname(path)
        sys.path.insert(0, directory)
        try:
            loader.loader.exec_module(module)
        except Exception as exc:  # noqa: BLE001 - the user's file failing at import is a usage error
            sys.modules.pop(module_name, None)
            raise UsageError(f"{path} failed to load: {type(exc).__name__}: {exc}") from None
        finally:
            if sys.path and sys.path[0] == directory:
                sys.path.pop(0)
        _LOADED[key] = module
    if not hasattr(module, name):
        raise UsageError(f"{path} has no {name}")
    return getattr(module, name)

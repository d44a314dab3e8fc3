"""The system's CAs loaded when a run first speaks https, not when aiohttp is imported.

Importing aiohttp builds two TLS contexts at once (``aiohttp.connector``), and each loads
the system's CA bundle: 39 ms of a 263 ms ``loadtool fetch URL -n 1``, paid by every run
that imports aiohttp, the plain-http ones and the fixture server included. The command
line (``loadtool.cli.main``) calls ``defer_aiohttp_cas()`` first: when aiohttp.connector
is imported later, its contexts are built without the bundle, and its connectors load it
into the verifying one at the first https connection that uses it — so verification is
unchanged. Code that imports loadtool as a library gets aiohttp as it is.

Should aiohttp name its contexts otherwise, they get their CAs at once, as without this.
"""

from __future__ import annotations

import importlib.machinery
import sys

_CONNECTOR = "aiohttp.connector"


def defer_aiohttp_cas() -> None:
    """Have aiohttp.connector, when it is imported, load no CAs until a connection needs them.
    (Nothing is imported here: ``loadtool --help`` calls it too.)"""
    if _CONNECTOR not in sys.modules and not any(isinstance(finder, _Finder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _Finder())


class _Finder:
    """Finds aiohttp.connector as the path finder would, and has it run by ``_Loader``."""

    def find_spec(self, name, path, target=None):
        if name != _CONNECTOR:
            return None
        sys.meta_path.remove(self)  # once
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
            spec.loader = _Loader(spec.loader)
        return spec


class _Loader:
    """aiohttp.connector's own loader, run with ssl's CA loading made a no-op for the length of
    the module's execution (on the importing thread, before any run has started)."""

    def __init__(self, loader) -> None:
        self.loader = loader

    def __getattr__(self, name: str):
        return getattr(self.loader, name)  # get_source, is_package ...: the real loader's

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module) -> None:
        import ssl

        context = ssl.SSLContext
        own = {name: context.__dict__.get(name) for name in ("load_default_certs", "set_default_verify_paths")}
        context.load_default_certs = lambda self, purpose=None: None
        context.set_default_verify_paths = lambda self: None
        try:
            self.loader.exec_module(module)
        finally:
            for name, method in own.items():
                if method is None:
                    delattr(context, name)
                else:
                    setattr(context, name, method)
        _patch(module)


def _patch(connector) -> None:
    """Load the CAs into aiohttp's verifying context the first time a connection uses it.
    An aiohttp that names things otherwise gets its verifying contexts' CAs at once, as it
    would have without the deferral: never a context that trusts nothing."""
    import ssl
    import threading

    verified = getattr(connector, "_SSL_CONTEXT_VERIFIED", None)
    tcp = getattr(connector, "TCPConnector", None)
    get = getattr(tcp, "_get_ssl_context", None)
    if not isinstance(verified, ssl.SSLContext) or get is None:
        for value in vars(connector).values():
            if isinstance(value, ssl.SSLContext) and value.verify_mode == ssl.CERT_REQUIRED:
                value.load_default_certs(ssl.Purpose.SERVER_AUTH)
        return

    lock = threading.Lock()
    loaded = []

    def _get_ssl_context(self, req):
        context = get(self, req)
        if context is verified and not loaded:
            with lock:
                if not loaded:
                    verified.load_default_certs(ssl.Purpose.SERVER_AUTH)
                    loaded.append(True)
        return context

    tcp._get_ssl_context = _get_ssl_context

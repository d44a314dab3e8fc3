"""TLS as users ask for it (-k, --cacert, --cert/--key, --tls-min), for every engine that speaks it.

One SSLContext per engine for the Python clients (requests, aiohttp, the fast engine),
built here from the job's Tls part, and the same choices as libcurl options for the
curl engine — so the same certificate is trusted, or refused as ``tls``, whichever
engine runs. SNI comes from each URL's host.
"""

from __future__ import annotations

import ssl

_VERSIONS = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}


def context(tls) -> ssl.SSLContext:
    """An SSLContext for a client: the system's CAs (or --cacert), verification unless
    --insecure, a client certificate when given, and the least TLS version allowed."""
    ctx = ssl.create_default_context(cafile=tls.cacert if tls is not None else None)
    if tls is None:
        return ctx
    if tls.insecure:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if tls.cert:
        ctx.load_cert_chain(tls.cert, tls.key)
    if tls.min_version:
        ctx.minimum_version = _VERSIONS[tls.min_version]
    return ctx

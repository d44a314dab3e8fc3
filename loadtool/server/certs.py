"""Certificates for the fixture server over TLS, made with trustme in a directory of its own.

A throwaway CA issues the server's certificate (for 127.0.0.1, ::1 and localhost) and a
client certificate, so a test or a user can trust the server with ``--cacert`` and,
when the server asks for one, present ``--cert``. Nothing is trusted system-wide.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Certs:
    """Where the PEM files are: the CA to trust, the server's, and a client's."""

    directory: str
    ca: str
    server: str
    client: str


def make_certs(directory: str) -> Certs:
    """A CA, a server certificate and a client certificate, written under ``directory``."""
    try:
        import trustme
    except ImportError:
        raise RuntimeError("loadtool serve --tls needs trustme: pip install trustme") from None

    ca = trustme.CA(organization_name="loadtool fixture CA")
    paths = Certs(directory, *(os.path.join(directory, name) for name in ("ca.pem", "server.pem", "client.pem")))
    ca.cert_pem.write_to_path(paths.ca)
    ca.issue_cert("127.0.0.1", "::1", "localhost").private_key_and_cert_chain_pem.write_to_path(paths.server)
    ca.issue_cert("loadtool-client@example.org").private_key_and_cert_chain_pem.write_to_path(paths.client)
    return paths

"""Which proxy a URL goes through: one answer, given to every engine.

``--proxy URL`` (http, https or socks5) sends every request through that proxy; without
it, the standard variables do (``HTTP_PROXY`` for http URLs, ``HTTPS_PROXY`` for https,
``ALL_PROXY`` for both, lower case too), and ``NO_PROXY`` names the hosts that are
reached directly — in both cases. When ``NO_PROXY`` is not set, loopback hosts are
reached directly unless ``--proxy`` says otherwise, as browsers do: a proxy in the
environment is for the network, not for the fixture server on this machine; when it is
set, it alone decides. ``--no-proxy-env`` ignores the variables. Each engine
asks ``Proxies.for_url`` and never applies the environment on its own, so requests
(which would) and aiohttp (which would not) send the same job the same way.
"""

from __future__ import annotations

import urllib.request
from functools import lru_cache
from urllib.parse import urlsplit

from ..system import is_loopback

SCHEMES = ("http", "https", "socks5", "socks5h")


def _loopback(netloc: str) -> bool:
    return is_loopback(urlsplit(f"//{netloc}").hostname or "")


class Proxies:
    """The proxy of each URL, for one job."""

    def __init__(self, proxy: str | None, use_env: bool) -> None:
        self.proxy = proxy
        self.env = urllib.request.getproxies_environment() if use_env else {}
        self._bypass = self.env.get("no", "")
        self._direct_loopback = "no" not in self.env
        #: Whether some URL could go through a proxy (asked once per request by every engine).
        self.any = bool(self.proxy or self.env.get("http") or self.env.get("https") or self.env.get("all"))

    @lru_cache(maxsize=4096)
    def for_host(self, scheme: str, host: str) -> str | None:
        if self._bypass and urllib.request.proxy_bypass_environment(host, {"no": self._bypass}):
            return None
        if self.proxy:
            return self.proxy
        if self._direct_loopback and _loopback(host):
            return None
        return self.env.get(scheme) or self.env.get("all") or None

    def for_url(self, url: str) -> str | None:
        """The proxy URL to send ``url`` through, or None to connect directly."""
        if not self.any:
            return None
        parts = urlsplit(url)
        return self.for_host(parts.scheme, parts.netloc)

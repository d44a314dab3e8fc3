"""What every route needs: the app's settings, and request arguments read within caps.

A request beyond a cap gets a 400 that names the cap, so a typo cannot exhaust the server.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

SEED = web.AppKey("seed", int)
PROFILE = web.AppKey("profile", str)
FILES = web.AppKey("files", object)


@dataclass(frozen=True)
class Behaviour:
    """How the fixture server behaves beyond its routes: like real servers, not kinder."""

    #: Compress text answers (HTML, JSON, XML, plain text) when the client asks, as nearly every
    #: real server does (gzip or deflate, level 1 as nginx's default; ``serve --no-compress``: never).
    compress: bool = True
    #: At most this many answers in the making at once per host; the rest queue (server.limits).
    capacity: int | None = None
    #: At most this many requests a second per host; the rest get 429 and a Retry-After.
    rate_limit: float | None = None

    def arguments(self) -> list[str]:
        """These settings as ``loadtool serve`` options (for a server started in a subprocess)."""
        return ([] if self.compress else ["--no-compress"]) + (
            ["--capacity", str(self.capacity)] if self.capacity else []) + (
            ["--rate-limit", f"{self.rate_limit:g}/s"] if self.rate_limit else [])


BEHAVIOUR = web.AppKey("behaviour", Behaviour)


def int_arg(request: web.Request, name: str, cap: int, low: int = 0) -> int:
    """A whole-number path or query argument within ``low..cap``, or a 400 naming the cap."""
    text = request.match_info.get(name) or request.query.get(name, "")
    try:
        value = int(text)
    except ValueError:
        raise web.HTTPBadRequest(text=f"{name} must be a whole number, not {text!r}\n") from None
    if not low <= value <= cap:
        raise web.HTTPBadRequest(text=f"{name} must be between {low} and {cap}, not {value}\n")
    return value


def float_arg(request: web.Request, name: str, default: float, cap: float) -> float:
    text = request.query.get(name)
    if text is None:
        return default
    try:
        value = float(text)
    except ValueError:
        raise web.HTTPBadRequest(text=f"{name} must be a number, not {text!r}\n") from None
    if not 0 <= value <= cap:
        raise web.HTTPBadRequest(text=f"{name} must be between 0 and {cap:g}, not {value:g}\n")
    return value

"""The fixture's API (``/api/``): what a scraper or a CI journey meets — a login that hands
out a token, cursor pages of items that need it, and the items themselves.

- ``POST /api/login`` with ``{"user": NAME}`` (JSON): ``{"token": …}``, after LOGIN_MS.
- ``GET /api/items`` (``?cursor=…`` after the first page), with ``Authorization: Bearer
  TOKEN``: ``{"items": [ids], "next": cursor or null}`` — PAGES pages of PER_PAGE items,
  each after PAGE_MS; the cursor is opaque, and names its user.
- ``GET /api/items/{id}``, with the token: ``{"id", "name", "price"}``, after ITEM_MS.
- ``GET /api/served``: what was served so far (``login USER``, ``page USER/N``, ``item ID``:
  how many times each), so a test can say exactly what a run did.

Everything is a pure function of the request and the server's seed: the same user gets
the same token, pages and items every time. A wrong or missing token is a 401.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
from collections import Counter

from aiohttp import web

from .args import SEED

PAGES, PER_PAGE = 5, 10
LOGIN_MS, PAGE_MS, ITEM_MS = 10, 5, 2
SERVED = web.AppKey("api_served", Counter)


def _token(request: web.Request, user: str) -> str:
    key = str(request.app[SEED]).encode()
    return f"{user}.{hmac.new(key, user.encode(), hashlib.sha256).hexdigest()[:24]}"


def _user(request: web.Request) -> str:
    """The user the request's bearer token belongs to; a 401 if it has none that is good."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    user = token.rpartition(".")[0]
    if scheme.lower() != "bearer" or not user or not hmac.compare_digest(token, _token(request, user)):
        raise web.HTTPUnauthorized(text="log in first: POST /api/login, then Authorization: Bearer TOKEN\n")
    return user


def _cursor(user: str, page: int) -> str:
    return base64.urlsafe_b64encode(f"{user}:{page}".encode()).decode().rstrip("=")


def _page_of(user: str, cursor: str | None) -> int:
    if cursor is None:
        return 0
    try:
        owner, _, page = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().rpartition(":")
        number = int(page)
    except ValueError:
        raise web.HTTPBadRequest(text="not a cursor of this API\n") from None
    if owner != user or not 0 <= number < PAGES:
        raise web.HTTPBadRequest(text="not a cursor of this API for this user\n")
    return number


async def login(request: web.Request) -> web.Response:
    try:
        user = str((await request.json())["user"])
    except (ValueError, KeyError, TypeError):
        raise web.HTTPBadRequest(text='send {"user": NAME} as JSON\n') from None
    if not user or "." in user or len(user) > 64:
        raise web.HTTPBadRequest(text="a user is a name of 1 to 64 characters, with no dot\n")
    await asyncio.sleep(LOGIN_MS / 1000)
    request.app[SERVED][f"login {user}"] += 1
    return web.json_response({"token": _token(request, user)})


async def items(request: web.Request) -> web.Response:
    user = _user(request)
    page = _page_of(user, request.query.get("cursor"))
    await asyncio.sleep(PAGE_MS / 1000)
    request.app[SERVED][f"page {user}/{page}"] += 1
    return web.json_response({"items": [f"{user}-{page}-{n}" for n in range(PER_PAGE)],
                              "next": _cursor(user, page + 1) if page + 1 < PAGES else None})


async def item(request: web.Request) -> web.Response:
    user = _user(request)
    identifier = request.match_info["id"]
    if identifier.partition("-")[0] != user:
        raise web.HTTPNotFound(text="no such item for this user\n")
    await asyncio.sleep(ITEM_MS / 1000)
    request.app[SERVED][f"item {identifier}"] += 1
    digest = hashlib.sha256(f"{request.app[SEED]}:{identifier}".encode()).digest()
    return web.json_response({"id": identifier, "name": f"item {digest[:3].hex()}",
                              "price": round(int.from_bytes(digest[3:5], "big") / 100, 2)})


async def served(request: web.Request) -> web.Response:
    return web.json_response(dict(request.app[SERVED]))


def add_api_routes(app: web.Application) -> None:
    app[SERVED] = Counter()
    app.router.add_post("/api/login", login)
    app.router.add_get("/api/items", items)
    app.router.add_get("/api/items/{id}", item)
    app.router.add_get("/api/served", served)

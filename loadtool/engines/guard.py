"""The aiohttp engine's guard: a connection's parser that takes no bytes after a whole answer.

Compiled with the core (loadtool.speedups): aiohttp hands every chunk a connection reads
to ``Handler.data_received`` and on to the parser through ``_Guarded.feed_data``, twice a
request; as Python those were two frames each, as C they are calls.
"""

from __future__ import annotations

import re

import aiohttp.http_exceptions
from aiohttp.client_proto import ResponseHandler

from .http import MAX_HEADERS, MAX_LINE


#: A head's Content-Length, and whether its body is chunked (then the length says nothing).
_LENGTH = re.compile(rb"\ncontent-length[ \t]*:[ \t]*(\d+)[ \t]*\r?\n", re.IGNORECASE)
_CHUNKED = re.compile(rb"\ntransfer-encoding[ \t]*:[^\n]*chunked", re.IGNORECASE)


def _answer_end(data: bytes) -> int | None:
    """Where the first answer in ``data`` ends, when ``data`` holds a whole answer framed by
    its Content-Length and more bytes after it; else None."""
    head_end = data.find(b"\r\n\r\n")
    if head_end < 0:
        return None
    head = data[:head_end + 2]
    length = _LENGTH.search(head)
    if length is None or _CHUNKED.search(head):
        return None
    end = head_end + 4 + int(length.group(1))
    return end if end < len(data) else None


class _Guarded:
    """aiohttp's response parser, but for bytes a server sends after a whole answer: no
    request is pipelined here, so they are no answer — the answer before them stands and
    the connection is not used again (as requests, curl and the fast engine read it).
    aiohttp's own parser fails the answer with the bytes after it. One per connection,
    around each parser aiohttp makes for it (``Handler``)."""

    __slots__ = ("parser", "handler")

    def __init__(self, handler) -> None:
        self.parser, self.handler = None, handler

    def feed_data(self, data: bytes):
        try:
            return self.parser.feed_data(data)
        except aiohttp.http_exceptions.HttpProcessingError:
            end = _answer_end(data)
            if end is None:
                raise
            import inspect

            handler = self.handler
            # A new parser (the old one is spent), as the request's set_response_params made
            # it: the answer is whole (framed by its length), so it waits for nothing and
            # needs no timer; the limits and decoding are the engine's session's.
            params = dict(skip_payload=getattr(handler, "_skip_payload", False),
                          read_bufsize=getattr(handler, "_read_bufsize", 2 ** 16),
                          read_timeout=getattr(handler, "_read_timeout", None), auto_decompress=False,
                          max_line_size=MAX_LINE, max_field_size=MAX_LINE, max_headers=MAX_HEADERS)
            known = inspect.signature(ResponseHandler.set_response_params).parameters  # as this aiohttp has them
            ResponseHandler.set_response_params(handler, **{name: value for name, value in params.items()
                                                            if name in known})
            if handler._parser is not self:  # (unless a tail it drained came through data_received)
                self.parser, handler._parser = handler._parser, self
            messages, upgraded, _ = self.parser.feed_data(data[:end])
            handler._should_close = True
            return messages, upgraded, b""

    def feed_eof(self):
        return self.parser.feed_eof()

    def __getattr__(self, name: str):
        return getattr(self.parser, name)


class Handler(ResponseHandler):
    """aiohttp's connection protocol, with its parser guarded (``_Guarded``): a private
    attribute of aiohttp's; should it change, the parser is left as it is. aiohttp makes a
    parser for every request (set_response_params); each is guarded as bytes arrive for it,
    by the connection's one guard. (Overriding set_response_params to wrap each, its keywords
    passed on, cost 5% of a request's instructions; this costs a fifth of that.)"""

    _guard: _Guarded | None = None
    _parser = None  # aiohttp's own, set in its __init__: were it renamed, nothing is guarded

    def data_received(self, data: bytes) -> None:
        parser = self._parser
        if parser is not None and type(parser) is not _Guarded:
            guard = self._guard
            if guard is None:
                guard = self._guard = _Guarded(self)
            guard.parser, self._parser = parser, guard
        super().data_received(data)

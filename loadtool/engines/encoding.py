"""Content encodings: what every engine asks for, and how every engine decodes an answer.

Nearly every real server compresses its text when asked, and every browser asks. So every
engine sends the same ``Accept-Encoding`` (``accepted``: gzip and deflate, and br and zstd
where their decoders are installed) unless --no-compression says ``identity``, and
decodes what comes back itself, the same way (libraries' own decoding differs: aiohttp
decompresses, requests streams raw bytes, libcurl decodes only when told). An answer's
bytes are counted twice: on the wire, and decoded.

Decoding streams: each chunk is decoded in bounded pieces, its first ``keep`` bytes kept
(for checks, or a crawl's page) and the rest counted and dropped, so a compression bomb —
10 MB that inflate to 10 GB — costs no memory; past ``limit`` decoded bytes the answer
fails as ``too_large``. A body that does not decode is ``protocol``.
"""

from __future__ import annotations

import zlib
from functools import cache

from ..options import default
from ..units import parse_size

#: Decoded bytes produced per step, at most: memory for a bomb stays at this.
STEP = 256 * 1024
#: The decoded size an answer may have unless --max-decoded says (options.py: Scrapy's
#: DOWNLOAD_MAXSIZE is 1 GiB; a page of more than this is a bomb or a mistake).
MAX_DECODED = parse_size(default("max_decoded"))


class TooLarge(Exception):
    """An answer whose decoded body passed the limit (a compression bomb, most likely)."""


class BadEncoding(Exception):
    """A body that does not decode as its Content-Encoding says."""


@cache
def decoders() -> tuple[str, ...]:
    """The encodings this machine decodes: gzip and deflate always, br and zstd when brotli
    and zstandard are installed."""
    found = ["gzip", "deflate"]
    for name, module in (("br", "brotli"), ("zstd", "zstandard")):
        try:
            __import__(module)
        except ImportError:
            continue
        found.append(name)
    return tuple(found)


def accepted(compression: bool = True) -> str:
    """The Accept-Encoding every engine sends: what it decodes, or identity (--no-compression)."""
    return ", ".join(decoders()) if compression else "identity"


def accept_header(fetch) -> tuple[str, str] | None:
    """The Accept-Encoding header an engine adds to the job's own, or None when the job's
    headers say it themselves (-H 'Accept-Encoding: ...' is sent as given)."""
    if any(name.lower() == "accept-encoding" for name, _ in fetch.headers):
        return None
    return "Accept-Encoding", accepted(fetch.compression)


def receiving(encoding: str | None, keep: int | None, limit: int) -> Body | None:
    """The Body to feed an answer's chunks to, or None when counting them is enough (not
    encoded, nothing to keep): the usual case, at no cost."""
    if keep is None and (encoding is None or encoding.strip().lower() in ("", "identity")):
        return None
    return Body(encoding, keep, limit)


#: An answer's decoded size when it came in an encoding not decoded here (one not asked for,
#: or unknown): its bytes count as they came, and it is counted apart.
UNDECODED = -1


def outcome_sizes(body: Body | None, counted: int) -> tuple[int, int | None]:
    """(bytes on the wire, bytes decoded — None when they are the same, UNDECODED when the
    answer came in an encoding not decoded here) of an answer."""
    if body is None:
        return counted, None
    if body.encoded:
        return body.wire, body.decoded
    return body.wire, UNDECODED if body.named else None


def _stage(name: str):
    """A streaming decoder for one encoding: ``(decompress(data, max_length), unconsumed)``."""
    if name in ("gzip", "x-gzip"):
        return _Zlib(16 + zlib.MAX_WBITS)
    if name == "deflate":
        return _Zlib(zlib.MAX_WBITS, raw_fallback=True)
    if name == "br" and "br" in decoders():
        return _Brotli()
    if name == "zstd" and "zstd" in decoders():
        return _Zstd()
    return None


class _Zlib:
    """gzip (members one after another) or deflate (zlib-wrapped, or raw as some servers send it)."""

    def __init__(self, wbits: int, raw_fallback: bool = False) -> None:
        self.wbits, self.raw_fallback, self.started = wbits, raw_fallback, False
        self.inner = zlib.decompressobj(wbits)

    def decompress(self, data: bytes, max_length: int) -> bytes:
        try:
            out = self.inner.decompress(data, max_length)
        except zlib.error as exc:
            if self.raw_fallback and not self.started:
                self.raw_fallback, self.inner = False, zlib.decompressobj(-zlib.MAX_WBITS)
                return self.decompress(data, max_length)
            raise BadEncoding(f"the body does not decode: {exc}") from None
        self.started = True
        if self.inner.eof and self.inner.unused_data and self.wbits > zlib.MAX_WBITS:  # another gzip member
            rest, self.inner = self.inner.unused_data, zlib.decompressobj(self.wbits)
            return out + self.decompress(rest, max(max_length - len(out), 1))
        return out

    @property
    def unconsumed(self) -> bytes:
        return self.inner.unconsumed_tail

    def finished(self) -> bool:
        return self.inner.eof or not self.started


class _Brotli:
    def __init__(self) -> None:
        import brotli

        self.inner = brotli.Decompressor()

    def decompress(self, data: bytes, max_length: int) -> bytes:
        try:
            return self.inner.process(data)
        except Exception as exc:  # noqa: BLE001 - brotli.error
            raise BadEncoding(f"the body does not decode: {exc}") from None

    unconsumed = b""

    def finished(self) -> bool:
        return self.inner.is_finished()


class _Zstd:
    def __init__(self) -> None:
        import zstandard

        self.inner = zstandard.ZstdDecompressor().decompressobj()

    def decompress(self, data: bytes, max_length: int) -> bytes:
        try:
            return self.inner.decompress(data)
        except Exception as exc:  # noqa: BLE001 - zstandard.ZstdError
            raise BadEncoding(f"the body does not decode: {exc}") from None

    unconsumed = b""

    def finished(self) -> bool:
        return True


class Body:
    """One answer's body as it arrives: its bytes on the wire and decoded, the first ``keep``
    decoded bytes kept (None: none), and decoding stopped past ``limit`` decoded bytes.
    ``encoding`` is the answer's Content-Encoding (None or identity: nothing to decode)."""

    __slots__ = ("wire", "decoded", "kept", "keep", "limit", "stages", "encoded", "named")

    def __init__(self, encoding: str | None, keep: int | None, limit: int = MAX_DECODED) -> None:
        self.wire = self.decoded = 0
        self.keep, self.limit = keep, limit
        self.kept = bytearray() if keep else None
        names = [part.strip().lower() for part in (encoding or "").split(",") if part.strip()]
        names = [name for name in names if name != "identity"]
        stages = [_stage(name) for name in reversed(names)]  # the last applied comes off first
        #: Whether it is encoded in a way decoded here (else its bytes count as they came).
        self.encoded = bool(stages) and None not in stages
        #: Whether it names an encoding at all (identity aside).
        self.named = bool(names)
        self.stages = stages if self.encoded else []

    def feed(self, chunk: bytes) -> None:
        """Take the next bytes of the body (raises TooLarge past the limit, BadEncoding)."""
        self.wire += len(chunk)
        if not self.stages:
            self._out(chunk)
            return
        self._through(0, chunk)

    def _through(self, index: int, data: bytes) -> None:
        """Decode ``data`` through stage ``index`` and those after it, a bounded step at a time."""
        stage = self.stages[index]
        while data:
            piece = stage.decompress(data, STEP)
            data = stage.unconsumed
            if index + 1 < len(self.stages):
                self._through(index + 1, piece)
            else:
                self._out(piece)
            if not piece and data:  # needs more input than it has: wait for the next chunk
                break

    def _out(self, piece: bytes) -> None:
        self.decoded += len(piece)
        if self.decoded > self.limit:
            raise TooLarge(f"the body decodes to more than {self.limit:,} bytes (--max-decoded)")
        kept = self.kept
        if kept is not None and len(kept) < self.keep:
            kept += piece[:self.keep - len(kept)]

    def finish(self) -> None:
        """The body is complete: an encoded one must have ended its stream (BadEncoding if cut)."""
        if self.stages and not all(stage.finished() for stage in self.stages):
            raise BadEncoding("the body ends before its encoded stream does")

    def take(self) -> bytes:
        """The kept bytes (decoded), once."""
        kept = bytes(self.kept or b"")
        if self.kept is not None:
            self.kept.clear()
        return kept

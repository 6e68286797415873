"""Temporary media: what users send (photos, voice) and what the bot uploads; gone after 3 days."""

from __future__ import annotations

import mimetypes
import secrets
import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from simulator.clock import Clock
from simulator.errors import ApiError
from simulator.request import ApiRequest, RawResponse

TTL = 3 * 24 * 3600
CHUNK = 64 << 10  # how a generated body is written

#: media type → (allowed content types, size limit in bytes, errcode when too big)
KINDS: dict[str, tuple[frozenset[str], int, int]] = {
    "image": (frozenset({"image/jpeg", "image/png", "image/gif", "image/bmp"}), 10 << 20, 40009),
    "voice": (frozenset({"audio/amr", "audio/mpeg", "audio/mp3", "audio/speex"}), 2 << 20, 40010),
    "video": (frozenset({"video/mp4"}), 10 << 20, 40011),
    "thumb": (frozenset({"image/jpeg"}), 64 << 10, 40012),
}
_EXTENSIONS = {
    "image/jpeg": ".jpg",
    "audio/amr": ".amr",
    "audio/mpeg": ".mp3",
    "audio/mp3": ".mp3",
}


@dataclass(frozen=True, slots=True)
class Media:
    media_id: str
    kind: str
    data: bytes
    content_type: str
    created_at: float
    #: A generated body of this many bytes in all (``data`` is its start), made as it is sent,
    #: so a test can serve 50 MB without holding it; ``None`` for ordinary media.
    size: int | None = None
    #: Whether a generated body announces its size (Content-Length) or is sent chunked.
    declare_length: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class MediaStream(RawResponse):
    """A generated media body, written chunk by chunk while the client reads it."""

    chunks: Callable[[], Iterator[bytes]]
    length: int | None  # Content-Length, or None for chunked transfer
    sent: Callable[[int], None] = field(repr=False)  # told how many bytes went out


def kind_of(content_type: str) -> str:
    major = content_type.split("/", 1)[0]
    return {"image": "image", "audio": "voice", "video": "video"}.get(major, "file")


def extension(content_type: str) -> str:
    return _EXTENSIONS.get(content_type) or mimetypes.guess_extension(content_type) or ".bin"


class MediaStore:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._media: dict[str, Media] = {}
        self._served: dict[str, int] = {}

    def add(self, data: bytes, content_type: str, kind: str | None = None) -> str:
        media_id = secrets.token_urlsafe(48)
        kind = kind or kind_of(content_type)
        self._media[media_id] = Media(media_id, kind, data, content_type, self._clock())
        return media_id

    def add_stream(
        self,
        size: int,
        content_type: str,
        kind: str | None = None,
        *,
        head: bytes = b"",
        declare_length: bool = True,
    ) -> str:
        """Media of ``size`` bytes (``head`` then zeros) generated while it is downloaded.

        What the platform itself would never hold (a 50 MB voice clip) but a client must
        survive; ``served(media_id)`` tells how much of it was actually written.
        """
        media_id = secrets.token_urlsafe(48)
        kind = kind or kind_of(content_type)
        created = self._clock()
        self._media[media_id] = Media(
            media_id, kind, head, content_type, created, size, declare_length
        )
        self._served[media_id] = 0
        return media_id

    def served(self, media_id: str) -> int:
        """Bytes of a generated body written to clients so far."""
        return self._served.get(media_id, 0)

    def _generate(self, media: Media) -> Iterator[bytes]:
        assert media.size is not None
        head = media.data[: media.size]
        if head:
            yield head
        left = media.size - len(head)
        filler = bytes(CHUNK)
        while left > 0:
            yield filler[: min(CHUNK, left)]
            left -= CHUNK

    def _count(self, media_id: str, sent: int) -> None:
        self._served[media_id] = self._served.get(media_id, 0) + sent

    def find(self, media_id: Any) -> Media:
        media = self._media.get(media_id) if isinstance(media_id, str) else None
        if media is None or self._clock() >= media.created_at + TTL:
            raise ApiError(40007)
        return media

    # -- endpoints ------------------------------------------------------------------------

    def get(self, request: ApiRequest) -> dict[str, Any] | RawResponse:
        """GET /cgi-bin/media/get?media_id= : the bytes, or a download URL for a video."""
        media = self.find(request.query.get("media_id"))
        if media.kind == "video":
            return {"video_url": f"http://vweixinf.tc.qq.com/{media.media_id}.mp4"}
        filename = media.media_id + extension(media.content_type)
        headers = {
            "Content-disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-cache, must-revalidate",
        }
        if media.size is not None:
            return MediaStream(
                data=b"",
                content_type=media.content_type,
                headers=headers,
                chunks=lambda: self._generate(media),
                length=media.size if media.declare_length else None,
                sent=lambda n: self._count(media.media_id, n),
            )
        return RawResponse(media.data, media.content_type, headers)

    def upload(self, request: ApiRequest) -> dict[str, Any]:
        """POST /cgi-bin/media/upload?type= with a multipart ``media`` part."""
        kind = request.query.get("type", "")
        if kind not in KINDS:
            raise ApiError(40004)
        part = request.files.get("media")
        if part is None:
            raise ApiError(41005, "media data missing")
        allowed, limit, too_big = KINDS[kind]
        content_type = part.content_type
        if content_type not in allowed:
            guessed = mimetypes.guess_type(part.filename)[0] or ""
            if guessed not in allowed:
                raise ApiError(40005)
            content_type = guessed
        if not part.data or len(part.data) > limit:
            raise ApiError(too_big)
        media_id = self.add(part.data, content_type, kind)
        created_at = int(self._media[media_id].created_at)
        # The answer has no errcode on success, and thumbs name their id thumb_media_id.
        key = "thumb_media_id" if kind == "thumb" else "media_id"
        return {"type": kind, key: media_id, "created_at": created_at}


# -- hostile pictures, for the bot's defences -------------------------------------------------


def _png_chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


def _png(width: int, height: int, idat: bytes, extra: list[bytes] | None = None) -> bytes:
    # 1-bit greyscale: the smallest pixels there are.
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"".join(
        [
            b"\x89PNG\r\n\x1a\n",
            _png_chunk(b"IHDR", ihdr),
            *(extra or []),
            _png_chunk(b"IDAT", idat),
            _png_chunk(b"IEND", b""),
        ]
    )


def bomb_png(width: int = 20_000, height: int = 20_000) -> bytes:
    """A valid PNG of ``width``×``height`` blank pixels in a few tens of KB (a pixel bomb)."""
    row = bytes(1 + (width + 7) // 8)  # filter byte 0, then the row's bits
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    return _png(width, height, idat)


def text_bomb_png(chunks: int = 8, inflated: int = 900 << 10) -> bytes:
    """A 1×1 PNG carrying ``chunks`` zTXt chunks that each inflate to ``inflated`` bytes."""
    text = zlib.compress(b"A" * inflated, 9)
    extra = [_png_chunk(b"zTXt", b"Comment%d\x00\x00" % i + text) for i in range(chunks)]
    return _png(1, 1, zlib.compress(b"\x00\x00"), extra)

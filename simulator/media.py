"""Temporary media: what users send (photos, voice) and what the bot uploads; gone after 3 days."""

from __future__ import annotations

import mimetypes
import secrets
from dataclasses import dataclass
from typing import Any

from simulator.clock import Clock
from simulator.errors import ApiError
from simulator.request import ApiRequest, RawResponse

TTL = 3 * 24 * 3600

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


def kind_of(content_type: str) -> str:
    major = content_type.split("/", 1)[0]
    return {"image": "image", "audio": "voice", "video": "video"}.get(major, "file")


def extension(content_type: str) -> str:
    return _EXTENSIONS.get(content_type) or mimetypes.guess_extension(content_type) or ".bin"


class MediaStore:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._media: dict[str, Media] = {}

    def add(self, data: bytes, content_type: str, kind: str | None = None) -> str:
        media_id = secrets.token_urlsafe(48)
        kind = kind or kind_of(content_type)
        self._media[media_id] = Media(media_id, kind, data, content_type, self._clock())
        return media_id

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
        return RawResponse(
            media.data,
            media.content_type,
            {
                "Content-disposition": f'attachment; filename="{filename}"',
                "Cache-Control": "no-cache, must-revalidate",
            },
        )

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

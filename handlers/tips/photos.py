"""Photos from reporters: re-encoded without EXIF (GPS, camera, owner) before they are kept.

Pillow does the work: the picture is turned upright first (EXIF orientation), then saved
without any metadata. Anything Pillow cannot read is refused rather than stored blind, and so
is anything that would cost more to decode than a phone photo: too many bytes, too many
pixels, several frames, or text chunks that inflate.
"""

from __future__ import annotations

import hashlib
import io
import struct
from dataclasses import dataclass

from PIL import Image, ImageOps, PngImagePlugin, UnidentifiedImageError

from bot.api import Media

#: WeChat's own limit for a temporary image (bot.api.MEDIA_LIMITS["image"]).
MAX_BYTES = 10 << 20
#: Refuse decompression bombs from the header, well before Pillow's own limit (~89 M pixels,
#: an error only at twice that) and before any pixel is decoded.
MAX_PIXELS = 40_000_000
#: Only the formats a phone sends: no exotic decoder (EPS runs Ghostscript) sees user bytes.
#: A phone's MPO (JPEG with a depth or gain map) comes in through the JPEG reader.
FORMATS = ("JPEG", "PNG", "GIF", "BMP", "WEBP")

# A PNG's text chunks are parsed on open and kept in memory, and zTXt/iTXt inflate; Pillow's
# defaults (1 MB a chunk, 64 MB in all) are far above what a photo carries. The re-encoded
# copy drops them anyway. These are process-wide settings of Pillow's PNG reader.
PngImagePlugin.MAX_TEXT_CHUNK = 256 << 10
PngImagePlugin.MAX_TEXT_MEMORY = 1 << 20


class NotAnImage(ValueError):
    pass


@dataclass(frozen=True)
class CleanPhoto:
    data: bytes
    content_type: str
    sha256: str


def _check(image: Image.Image) -> None:
    """Refuse from the header alone, before anything is decoded."""
    if image.width * image.height > MAX_PIXELS:
        msg = "image too large"
        raise NotAnImage(msg)
    # Only the first frame would be kept, and walking the others is the cost of a bomb.
    # MPO is a phone's JPEG with a second picture (depth map, HDR gain map): keep the first.
    if image.format != "MPO" and getattr(image, "is_animated", False):
        msg = "animated or multi-frame image"
        raise NotAnImage(msg)


def stripped(media: Media) -> Media:
    """``State.prepare`` for photo steps: the photo cleaned as it is downloaded, in a worker
    thread, so that the handler's transaction only stores it."""
    clean = clean_photo(media.data)
    return Media(clean.data, clean.content_type, prepared=True)


def clean_photo(raw: bytes) -> CleanPhoto:
    if len(raw) > MAX_BYTES:
        msg = "file too large"
        raise NotAnImage(msg)
    try:
        with Image.open(io.BytesIO(raw), formats=FORMATS) as image:
            _check(image)
            upright = ImageOps.exif_transpose(image)
            fmt = "PNG" if image.format == "PNG" else "JPEG"
            if fmt == "JPEG" and upright.mode not in ("RGB", "L"):
                upright = upright.convert("RGB")
            out = io.BytesIO()
            upright.save(out, format=fmt, quality=90)
    except NotAnImage:
        raise
    # What Pillow raises on hostile input: ValueError for text-chunk limits, SyntaxError and
    # struct.error for broken headers, EOFError for truncated frames.
    except (
        UnidentifiedImageError,
        OSError,
        ValueError,
        SyntaxError,
        EOFError,
        struct.error,
        Image.DecompressionBombError,
        # A warning Pillow gives between its two limits, an error where warnings are errors.
        Image.DecompressionBombWarning,
    ) as exc:
        raise NotAnImage(str(exc)) from None
    data = out.getvalue()
    content_type = "image/png" if fmt == "PNG" else "image/jpeg"
    return CleanPhoto(
        data=data, content_type=content_type, sha256=hashlib.sha256(data).hexdigest()
    )

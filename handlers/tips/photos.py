"""Photos from reporters: re-encoded without EXIF (GPS, camera, owner) before they are kept.

Pillow does the work: the picture is turned upright first (EXIF orientation), then saved
without any metadata. Anything Pillow cannot read is refused rather than stored blind.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_PIXELS = 40_000_000  # refuse decompression bombs well before Pillow's own limit


class NotAnImage(ValueError):
    pass


@dataclass(frozen=True)
class CleanPhoto:
    data: bytes
    content_type: str
    sha256: str


def clean_photo(raw: bytes) -> CleanPhoto:
    try:
        with Image.open(io.BytesIO(raw)) as image:
            if image.width * image.height > MAX_PIXELS:
                msg = "image too large"
                raise NotAnImage(msg)
            upright = ImageOps.exif_transpose(image)
            fmt = "PNG" if image.format == "PNG" else "JPEG"
            if fmt == "JPEG" and upright.mode not in ("RGB", "L"):
                upright = upright.convert("RGB")
            out = io.BytesIO()
            upright.save(out, format=fmt, quality=90)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise NotAnImage(str(exc)) from None
    data = out.getvalue()
    content_type = "image/png" if fmt == "PNG" else "image/jpeg"
    return CleanPhoto(
        data=data, content_type=content_type, sha256=hashlib.sha256(data).hexdigest()
    )

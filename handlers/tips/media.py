"""Voice clips from reporters: kept only when they are what WeChat sends (AMR or Speex audio)."""

from __future__ import annotations

from bot.api import MEDIA_LIMITS, Media
from storage import limits

#: WeChat's own limit for a temporary voice clip.
MAX_VOICE_BYTES = MEDIA_LIMITS["voice"]
_AMR_TYPES = frozenset({"audio/amr", "audio/amr-wb"})
_AMR_MAGIC = b"#!AMR"  # the AMR file header ("#!AMR\n", "#!AMR-WB\n")


class NotAudio(ValueError):
    pass


def clean_voice(media: Media) -> Media:
    """The clip with its content type normalised, or NotAudio for anything else.

    The content type is stored (tip_media.content_type), so it must be an audio type that
    fits the column; a clip that says it is AMR must also start like one.
    """
    content_type = media.content_type.split(";", 1)[0].strip().lower()
    if not content_type.startswith("audio/") or len(content_type) > limits.CONTENT_TYPE:
        msg = "not an audio content type"
        raise NotAudio(msg)
    if not media.data:
        msg = "empty voice clip"
        raise NotAudio(msg)
    if len(media.data) > MAX_VOICE_BYTES:
        msg = "voice clip too large"
        raise NotAudio(msg)
    if content_type in _AMR_TYPES and not media.data.startswith(_AMR_MAGIC):
        msg = "AMR content type without an AMR header"
        raise NotAudio(msg)
    return Media(media.data, content_type)

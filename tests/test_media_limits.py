"""Media downloads are bounded, and hostile pictures or clips are refused, not decoded."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from PIL import Image

from bot.api import MEDIA_LIMITS, Media, MediaKind
from bot.errors import InvalidMedia, MediaTooLarge, TransportError, WeChatAPIError
from bot.typedefs import api_key
from handlers.tips.media import NotAudio, clean_voice
from handlers.tips.photos import MAX_BYTES, NotAnImage, clean_photo
from simulator import FakeWeChat
from simulator.media import CHUNK, bomb_png, text_bomb_png
from tests.conftest import Bot

MEDIA_GET = "/cgi-bin/media/get"
AMR = b"#!AMR\n"


def photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 240), (90, 120, 160)).save(out, format="JPEG")
    return out.getvalue()


@pytest.mark.parametrize("declare_length", [True, False], ids=["content-length", "chunked"])
async def test_50_mb_voice_is_refused_without_reading_it(
    bot: Bot, platform: FakeWeChat, declare_length: bool
) -> None:
    limit = MEDIA_LIMITS["voice"]
    media_id = platform.media.add_stream(
        50 << 20, "audio/amr", head=AMR, declare_length=declare_length
    )
    with pytest.raises(MediaTooLarge) as err:
        await bot.app[api_key].download_media(media_id, kind="voice")
    assert err.value.errcode == -4 and err.value.limit == limit
    if declare_length:
        assert err.value.received == 0  # Content-Length said enough
    else:
        assert limit < err.value.received <= limit + CHUNK
    # The platform got rid of what the sockets buffered (about 10 MB on loopback), not 50.
    assert platform.media.served(media_id) < 25 << 20
    assert len(platform.calls_to(MEDIA_GET)) == 1  # too large is not retried

    # The connection was dropped, not left half-read: the next download works.
    normal = platform.add_media(AMR + b"\x00" * 100, "audio/amr")
    clip = await bot.app[api_key].download_media(normal, kind="voice")
    assert clip.data == AMR + b"\x00" * 100
    assert clean_voice(clip) == Media(clip.data, "audio/amr")


@pytest.mark.parametrize(
    ("kind", "declare_length"), [("voice", False), ("thumb", True), ("image", False)]
)
async def test_limits_per_kind_are_inclusive(
    bot: Bot, platform: FakeWeChat, kind: MediaKind, declare_length: bool
) -> None:
    api, limit = bot.app[api_key], MEDIA_LIMITS[kind]
    at_limit = platform.media.add_stream(limit, "image/jpeg", declare_length=declare_length)
    assert len((await api.download_media(at_limit, kind=kind)).data) == limit
    over = platform.media.add_stream(limit + 1, "image/jpeg", declare_length=declare_length)
    with pytest.raises(MediaTooLarge):
        await api.download_media(over, kind=kind)


async def test_other_errors_keep_their_behaviour(bot: Bot, platform: FakeWeChat) -> None:
    api = bot.app[api_key]
    with pytest.raises(InvalidMedia):
        await api.download_media("missing")
    with pytest.raises(ValueError, match="kind"):
        await api.download_media("x", kind="file")  # type: ignore[arg-type]
    # A video answers JSON (a download URL), which is not the media itself.
    video = platform.add_media(b"\x00\x00\x00\x18ftypmp42", "video/mp4")
    with pytest.raises(WeChatAPIError) as err:
        await api.download_media(video, kind="video")
    assert err.value.errcode == -3
    # A rejected token is refreshed once; a gateway failure is retried.
    media_id = platform.add_media(photo(), "image/jpeg")
    platform.expire_all_tokens()
    platform.fail_next(MEDIA_GET, errcode=0, status=502)
    assert (await api.download_media(media_id)).content_type == "image/jpeg"
    platform.fail_next(MEDIA_GET, errcode=0, status=502, times=10)
    with pytest.raises(TransportError):
        await api.download_media(media_id)


async def test_a_normal_photo_passes_and_a_bomb_is_refused(bot: Bot, platform: FakeWeChat) -> None:
    api = bot.app[api_key]
    media = await api.download_media(platform.add_media(photo(), "image/jpeg"))
    clean = clean_photo(media.data)
    assert clean.content_type == "image/jpeg"
    with Image.open(io.BytesIO(clean.data)) as kept:
        assert kept.size == (320, 240)

    # 400 M pixels in 48 KB: small enough to download, refused before a pixel is decoded.
    bomb = await api.download_media(platform.add_media(bomb_png(), "image/png"))
    assert len(bomb.data) < 100 << 10
    with pytest.raises(NotAnImage):
        clean_photo(bomb.data)


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: bomb_png(8_000, 6_000), id="48M pixels, under Pillow's own limit"),
        pytest.param(lambda: bomb_png(10_000, 10_000), id="100M pixels, Pillow warns"),
        pytest.param(lambda: text_bomb_png(1, 50 << 20), id="one zTXt inflating to 50 MB"),
        pytest.param(lambda: text_bomb_png(8, 900 << 10), id="8 zTXt of 900 KB each"),
        pytest.param(lambda: text_bomb_png(8, 200 << 10), id="zTXt over 1 MB in all"),
        pytest.param(lambda: b"\xff\xd8\xff\xe0" + bytes(MAX_BYTES), id="over 10 MB"),
        pytest.param(lambda: b"%!PS-Adobe-3.0 EPSF-3.0\n", id="EPS"),
        pytest.param(lambda: b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, id="broken PNG"),
    ],
)
def test_hostile_pictures_are_not_images(make: Callable[[], bytes]) -> None:
    with pytest.raises(NotAnImage):
        clean_photo(make())


def test_animations_are_refused_but_a_still_gif_is_kept() -> None:
    frames = [Image.new("RGB", (40, 30), (80 * i, 0, 0)) for i in range(3)]
    animated = io.BytesIO()
    frames[0].save(animated, format="GIF", save_all=True, append_images=frames[1:])
    with pytest.raises(NotAnImage, match="frame"):
        clean_photo(animated.getvalue())
    still = io.BytesIO()
    frames[0].save(still, format="GIF")
    assert clean_photo(still.getvalue()).content_type == "image/jpeg"


def test_a_phone_mpo_keeps_its_first_picture() -> None:
    out = io.BytesIO()
    first, second = Image.new("RGB", (64, 48), (200, 0, 0)), Image.new("RGB", (32, 24))
    first.save(out, format="MPO", save_all=True, append_images=[second])
    with Image.open(io.BytesIO(clean_photo(out.getvalue()).data)) as kept:
        assert kept.size == (64, 48)


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (photo(), "image/jpeg"),
        (AMR + b"\x00", "application/octet-stream"),
        (AMR + b"\x00", "audio/" + "x" * 64),
        (b"", "audio/amr"),
        (b"RIFF....WAVE", "audio/amr"),
        (AMR + bytes(MEDIA_LIMITS["voice"]), "audio/amr"),
    ],
    ids=["a photo", "not audio", "type too long", "empty", "AMR without header", "over 2 MB"],
)
def test_clips_that_are_not_voice_are_refused(data: bytes, content_type: str) -> None:
    with pytest.raises(NotAudio):
        clean_voice(Media(data, content_type))


def test_voice_content_type_is_normalised() -> None:
    assert clean_voice(Media(AMR, "Audio/AMR; codec=x")).content_type == "audio/amr"
    assert clean_voice(Media(b"Speex   ", "audio/speex")).content_type == "audio/speex"

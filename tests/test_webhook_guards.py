"""Bad input at the webhook: each kind gets a defined 4xx, a log line, and stores nothing."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import pytest
from aiohttp import ClientSession
from sqlalchemy import func, select

from bot.protocol import SafeMode, sign
from bot.typedefs import sessionmaker_key
from storage.models import Delivery, User
from tests.conftest import AES_KEY, APPID, TOKEN, Bot

NOW = "1790000000"


def query(timestamp: str = NOW, nonce: str = "n0nce", **extra: str) -> dict[str, str]:
    return {
        "signature": sign(TOKEN, timestamp, nonce),
        "timestamp": timestamp,
        "nonce": nonce,
        "openid": "o-guard",
        **extra,
    }


def text_xml(content: str = "你好", msg_id: str = "1001") -> str:
    return (
        "<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName>"
        "<FromUserName><![CDATA[o-guard]]></FromUserName>"
        f"<CreateTime>{NOW}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    )


async def post(bot: Bot, body: bytes | str, params: dict[str, str]) -> tuple[int, str]:
    async with ClientSession() as http, http.post(bot.url, data=body, params=params) as resp:
        return resp.status, await resp.text()


async def stored(bot: Bot) -> tuple[int, int]:
    async with bot.app[sessionmaker_key]() as session:
        deliveries = await session.scalar(select(func.count()).select_from(Delivery))
        users = await session.scalar(select(func.count()).select_from(User))
    return int(deliveries or 0), int(users or 0)


async def test_server_check(bot: Bot) -> None:
    async with ClientSession() as http:
        async with http.get(bot.url, params=query(echostr="echo123")) as resp:
            assert (resp.status, await resp.text()) == (200, "echo123")
        bad = {**query(echostr="echo123"), "signature": "f" * 40}
        async with http.get(bot.url, params=bad) as resp:
            assert resp.status == 403
            assert "echo123" not in await resp.text()
        async with http.get(bot.url, params={"echostr": "x"}) as resp:
            assert resp.status == 400


def encrypted_body(xml: str, timestamp: str = NOW, nonce: str = "n0nce") -> tuple[str, str]:
    safe = SafeMode(token=TOKEN, aes_key=AES_KEY, appid=APPID)
    wrapped = safe.encrypt(xml, nonce=nonce, timestamp=timestamp)
    encrypt = wrapped.split("<Encrypt><![CDATA[")[1].split("]]>")[0]
    return (
        f"<xml><ToUserName>gh_0123456789ab</ToUserName><Encrypt>{encrypt}</Encrypt></xml>",
        sign(TOKEN, timestamp, nonce, encrypt),
    )


BAD_PLAIN: list[tuple[str, bytes | str, int]] = [
    ("empty", b"", 400),
    ("blank", b"   \n", 400),
    ("not xml", b"hello world", 400),
    ("json", b'{"MsgType": "text"}', 400),
    ("malformed", b"<xml><Content>oops</xml>", 400),
    ("entity bomb", b'<!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]><xml>&b;</xml>', 400),
    ("external dtd", b'<!DOCTYPE xml SYSTEM "http://127.0.0.1:1/x.dtd"><xml/>', 400),
    ("wrong root", b"<msg><MsgType>text</MsgType></msg>", 400),
    # WeChat sends UTF-8: a GBK body is refused rather than stored garbled.
    ("gbk", text_xml("电动车被偷了").encode("gbk"), 400),
    (
        "gbk declared",
        ('<?xml version="1.0" encoding="GBK"?>' + text_xml("电动车被偷了")).encode("gbk"),
        400,
    ),
    ("missing MsgType", text_xml().replace("<MsgType><![CDATA[text]]></MsgType>", ""), 400),
    ("missing MsgId", text_xml().replace("<MsgId>1001</MsgId>", ""), 400),
    ("bad CreateTime", text_xml().replace(f"<CreateTime>{NOW}", "<CreateTime>soon"), 400),
    ("event without Event", text_xml().replace("[text]", "[event]"), 400),
    (
        "bad location",
        text_xml()
        .replace("[text]", "[location]")
        .replace("<Content>", "<Location_X>north</Location_X><Location_Y>1</Location_Y><Content>"),
        400,
    ),
]


@pytest.mark.parametrize(("case", "body", "status"), BAD_PLAIN, ids=[c[0] for c in BAD_PLAIN])
async def test_bad_bodies(
    bot: Bot, case: str, body: bytes | str, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="pingan.webhook"):
        got, _ = await post(bot, body, query())
    assert got == status
    assert any("refused" in r.getMessage() for r in caplog.records)
    assert await stored(bot) == (0, 0)


async def test_forged_and_stale_requests(bot: Bot) -> None:
    forged = {**query(), "signature": sign("not-the-token", NOW, "n0nce")}
    assert (await post(bot, text_xml(), forged))[0] == 403
    stale_ts = str(int(NOW) - 301)
    assert (await post(bot, text_xml(), query(timestamp=stale_ts)))[0] == 403
    future_ts = str(int(NOW) + 301)
    assert (await post(bot, text_xml(), query(timestamp=future_ts)))[0] == 403
    assert (await post(bot, text_xml(), {"timestamp": NOW}))[0] == 400
    assert await stored(bot) == (0, 0)


async def test_forged_msg_signature(bot: Bot) -> None:
    body, msg_signature = encrypted_body(text_xml())
    good = query(encrypt_type="aes", msg_signature=msg_signature)
    forged = {**good, "msg_signature": "0" * 40}
    assert (await post(bot, body, forged))[0] == 403
    assert (await post(bot, body, {**good, "msg_signature": ""}))[0] == 400
    assert await stored(bot) == (0, 0)
    status, reply = await post(bot, body, good)
    assert status == 200 and "<Encrypt>" in reply
    assert await stored(bot) == (1, 1)


@pytest.mark.parametrize("encrypt", ["", "!!!notbase64!!!", "QUJDREVGR0hJSktMTU5PUA==", "A" * 64])
async def test_undecryptable_safe_mode_bodies(bot: Bot, encrypt: str) -> None:
    body = f"<xml><ToUserName>gh</ToUserName><Encrypt>{encrypt}</Encrypt></xml>"
    params = query(encrypt_type="aes", msg_signature=sign(TOKEN, NOW, "n0nce", encrypt))
    assert (await post(bot, body, params))[0] == 400
    assert await stored(bot) == (0, 0)


async def test_safe_mode_without_key_is_refused(start_bot: Callable[..., Awaitable[Bot]]) -> None:
    bot = await start_bot(wechat_aes_key=None, wechat_mode="plain")
    body, msg_signature = encrypted_body(text_xml())
    assert (await post(bot, body, query(encrypt_type="aes", msg_signature=msg_signature)))[
        0
    ] == 400
    # …while plain mode keeps working.
    assert (await post(bot, text_xml(), query()))[0] == 200


async def test_oversize_body(start_bot: Callable[..., Awaitable[Bot]]) -> None:
    bot = await start_bot(max_body_bytes=4096)
    big = text_xml(content="警" * 3000)  # 9 000 bytes of UTF-8
    assert (await post(bot, big, query()))[0] == 413
    assert (await post(bot, text_xml(content="警" * 100), query()))[0] == 200


async def test_unknown_message_types_get_an_answer(bot: Bot) -> None:
    link = (
        text_xml()
        .replace("[text]", "[link]")
        .replace("<Content>", "<Title>t</Title><Url>http://127.0.0.1/</Url><Content>")
    )
    status, reply = await post(bot, link, query())
    assert status == 200 and "<Content>" in reply

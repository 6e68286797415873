"""The sender against tiny aiohttp bots: signing, safe mode, retries, events."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import xmltodict
from aiohttp import web
from aiohttp.test_utils import TestServer
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.replies import TextReply
from wechatpy.utils import WeChatSigner, check_signature

from simulator import FakeClock, FakeWeChat, InvalidReply, WeChatSender
from simulator.replies import open_envelope
from simulator.request import ApiRequest
from simulator.wire import envelope

# The platform's published sample account (WXBizMsgCrypt test vectors).
TOKEN = "pamtest"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
APPID = "wxb11529c136998cb6"
SAMPLE_PLAIN = "我是中文abcd123"
SAMPLE_CIPHER = (
    "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg=="
)
GH = "gh_0123456789ab"
Server = Callable[..., Awaitable[TestServer]]
PLAIN_REPLY = (
    "<xml><ToUserName>{to}</ToUserName><FromUserName>gh</FromUserName>"
    "<CreateTime>1</CreateTime><MsgType>text</MsgType><Content>x</Content></xml>"
)


class Bot:
    """Checks each push as a real bot must, records it, and answers as told."""

    def __init__(self, *, aes: bool = False) -> None:
        self.crypto = WeChatCrypto(TOKEN, AES_KEY, APPID) if aes else None
        self.received: list[dict[str, Any]] = []
        self.queries: list[dict[str, str]] = []
        self.delays: list[float] = []  # per attempt, then 0
        self.answer: str | None = None  # fixed body instead of an echo
        self.status = 200
        self.split_cdata = True  # what a correct bot does with "]]>" in a reply

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/wechat", self.handle)
        app.router.add_get("/wechat", self.check)
        return app

    async def check(self, request: web.Request) -> web.Response:
        q = request.query
        try:
            check_signature(TOKEN, q["signature"], q["timestamp"], q["nonce"])
        except InvalidSignatureException:
            return web.Response(status=403)
        return web.Response(text=q["echostr"])

    async def handle(self, request: web.Request) -> web.Response:
        q = dict(request.query)
        check_signature(TOKEN, q["signature"], q["timestamp"], q["nonce"])
        body = await request.text()
        if self.crypto is not None:
            assert q["encrypt_type"] == "aes"
            assert "<ToUserName><![CDATA[gh_" in body and "<MsgType>" not in body
            body = self.crypto.decrypt_message(
                body, q["msg_signature"], q["timestamp"], q["nonce"]
            )
        message = dict(xmltodict.parse(body)["xml"])
        self.queries.append(q)
        self.received.append(message)
        delay = self.delays.pop(0) if self.delays else 0.0
        await asyncio.sleep(delay)
        if self.answer is not None:
            return web.Response(text=self.answer, status=self.status)
        content = "echo:" + str(message.get("Content") or message.get("Event"))
        if self.split_cdata:  # wechatpy writes the value into CDATA as is
            content = content.replace("]]>", "]]]]><![CDATA[>")
        reply = TextReply(
            source=message["ToUserName"], target=message["FromUserName"], content=content
        ).render()
        if self.crypto is not None:
            reply = self.crypto.encrypt_message(reply, q["nonce"], q["timestamp"])
        return web.Response(text=reply, content_type="application/xml")


async def start(
    aiohttp_server: Server,
    bot: Bot,
    *,
    platform: FakeWeChat | None = None,
    clock: FakeClock | None = None,
    wait: float = 2.0,
) -> WeChatSender:
    server = await aiohttp_server(bot.app())
    return WeChatSender(
        url=str(server.make_url("/wechat")),
        token=TOKEN,
        appid=APPID,
        original_id=GH,
        aes_key=AES_KEY if bot.crypto is not None else None,
        platform=platform,
        clock=clock or FakeClock(1_790_000_000),
        timeout=wait,
    )


async def test_plain_push_is_signed_like_wechat(aiohttp_server: Server) -> None:
    bot = Bot()
    sender = await start(aiohttp_server, bot)
    result = await sender.text("o-1", "你好")
    assert result.statuses == [200]
    assert result.reply is not None and result.reply.content == "echo:你好"
    assert result.reply.from_user == GH and result.reply.msg_type == "text"
    (query,) = bot.queries
    assert set(query) == {"signature", "timestamp", "nonce", "openid"}
    assert query["openid"] == "o-1" and query["timestamp"] == "1790000000"
    check_signature(TOKEN, query["signature"], query["timestamp"], query["nonce"])
    (message,) = bot.received
    assert message["ToUserName"] == GH and message["MsgType"] == "text"
    assert message["CreateTime"] == "1790000000" and int(message["MsgId"]) > 10**16


async def test_sign_query_helper() -> None:
    sender = WeChatSender(url="http://x", token=TOKEN, appid=APPID, original_id=GH)
    q = sender.sign_query(timestamp="1409304348", nonce="xxxxxx", encrypted=SAMPLE_CIPHER)
    check_signature(TOKEN, q["signature"], "1409304348", "xxxxxx")
    signer = WeChatSigner()
    signer.add_data(TOKEN, "1409304348", "xxxxxx", SAMPLE_CIPHER)
    assert q["msg_signature"] == signer.signature and q["encrypt_type"] == "aes"


async def test_safe_mode_round_trip(aiohttp_server: Server) -> None:
    bot = Bot(aes=True)
    sender = await start(aiohttp_server, bot)
    text = "a]]>b<![CDATA[c]]>]]>"
    result = await sender.text("o-safe", text)
    assert result.reply is not None and result.reply.content == f"echo:{text}"
    assert bot.received[0]["Content"] == text
    assert f"<FromUserName><![CDATA[{GH}]]></FromUserName>" in result.reply.xml
    assert set(bot.queries[0]) >= {"encrypt_type", "msg_signature", "signature", "openid"}
    bot.split_cdata = False  # a raw "]]>" breaks the reply: WeChat cannot show it
    with pytest.raises(InvalidReply, match="unparsable"):
        await sender.text("o-safe", text)


async def test_published_sample_opens() -> None:
    signer = WeChatSigner()
    signer.add_data(TOKEN, "1409304348", "xxxxxx", SAMPLE_CIPHER)
    body = (
        f"<xml><Encrypt><![CDATA[{SAMPLE_CIPHER}]]></Encrypt>"
        f"<MsgSignature><![CDATA[{signer.signature}]]></MsgSignature>"
        "<TimeStamp>1409304348</TimeStamp><Nonce><![CDATA[xxxxxx]]></Nonce></xml>"
    )
    assert open_envelope(body, WeChatCrypto(TOKEN, AES_KEY, APPID)) == SAMPLE_PLAIN
    with pytest.raises(InvalidReply, match="decrypt"):
        open_envelope(
            body.replace(signer.signature, "0" * 40), WeChatCrypto(TOKEN, AES_KEY, APPID)
        )
    assert envelope(GH, SAMPLE_CIPHER).startswith("<xml><ToUserName><![CDATA[gh_")


async def test_retries_three_times_with_the_same_message(aiohttp_server: Server) -> None:
    bot = Bot()
    bot.delays = [0.5, 0.5, 0.5]
    sender = await start(aiohttp_server, bot, wait=0.2)
    result = await sender.text("o-slow", "在吗")
    assert result.statuses == [None, None, None] and result.reply is None
    await asyncio.sleep(0.6)  # let the bot's handlers finish
    assert len(bot.received) == 3
    assert len({m["MsgId"] for m in bot.received}) == 1
    assert len({m["CreateTime"] for m in bot.received}) == 1
    assert len({q["nonce"] for q in bot.queries}) == 3


async def test_retry_that_gets_an_answer(aiohttp_server: Server) -> None:
    bot = Bot()
    bot.delays = [0.5]
    sender = await start(aiohttp_server, bot, wait=0.2)
    result = await sender.text("o-1", "hi")
    assert result.statuses == [None, 200]
    assert result.reply is not None and result.reply.content == "echo:hi"
    await asyncio.sleep(0.4)


@pytest.mark.parametrize("answer", ["success", ""])
async def test_success_or_empty_stops_at_once(aiohttp_server: Server, answer: str) -> None:
    bot = Bot()
    bot.answer = answer
    sender = await start(aiohttp_server, bot, wait=0.2)
    result = await sender.text("o-1", "hi")
    assert result.statuses == [200] and result.reply is None
    assert len(bot.received) == 1


async def test_server_errors_are_retried(aiohttp_server: Server) -> None:
    bot = Bot()
    bot.answer, bot.status = "oops", 500
    sender = await start(aiohttp_server, bot)
    result = await sender.text("o-1", "hi")
    assert result.statuses == [500, 500, 500] and result.reply is None


async def test_unusable_reply_raises(aiohttp_server: Server) -> None:
    bot = Bot()
    bot.answer = "<xml><MsgType>text</MsgType>"
    sender = await start(aiohttp_server, bot)
    with pytest.raises(InvalidReply, match="unparsable"):
        await sender.text("o-1", "hi")
    bot.answer = PLAIN_REPLY.format(to="o-other")
    with pytest.raises(InvalidReply, match="ToUserName"):
        await sender.text("o-1", "hi")


async def test_safe_mode_requires_an_encrypted_reply(aiohttp_server: Server) -> None:
    bot = Bot(aes=True)
    bot.answer = PLAIN_REPLY.format(to="o-1")
    sender = await start(aiohttp_server, bot)
    with pytest.raises(InvalidReply, match="lacks Encrypt"):
        await sender.text("o-1", "hi")
    bot.answer = "success"  # plain success is fine in safe mode
    assert (await sender.text("o-1", "hi")).reply is None


async def test_verify_server_and_post_raw(aiohttp_server: Server) -> None:
    bot = Bot()
    sender = await start(aiohttp_server, bot)
    assert await sender.verify_server("echo123") == (200, "echo123")
    body, query = sender.build_text("o-1", "raw")
    attempt = await sender.post_raw(body, query)
    assert attempt.status == 200 and "echo:raw" in attempt.body
    forged = await sender.post_raw(b"<xml/>", {**query, "signature": "f" * 40})
    assert forged.status == 500  # the tiny bot lets wechatpy's exception escape


async def test_message_kinds_and_ids(aiohttp_server: Server, platform: FakeWeChat) -> None:
    bot = Bot()
    sender = await start(aiohttp_server, bot, platform=platform)
    first = await sender.image("o-1", b"\xff\xd8jpeg")
    second = await sender.voice("o-1", b"#!AMR\n", recognition="报警")
    await sender.location("o-1", 39.915, 116.404, "天安门", scale=16)
    image, voice, location = bot.received
    assert first.msg_id is not None and second.msg_id is not None
    assert second.msg_id > first.msg_id
    assert platform.media.find(image["MediaId"]).data == b"\xff\xd8jpeg"
    assert image["PicUrl"].startswith("http://mmbiz.qpic.cn/")
    assert (voice["Format"], voice["Recognition"]) == ("amr", "报警")
    assert (location["Location_X"], location["Location_Y"]) == ("39.915", "116.404")
    assert (location["Scale"], location["Label"]) == ("16", "天安门")


async def test_events_drive_the_platform(
    aiohttp_server: Server, platform: FakeWeChat, clock: FakeClock
) -> None:
    bot = Bot()
    sender = await start(aiohttp_server, bot, platform=platform, clock=clock)
    scene = {"scene": {"scene_str": "c:xinhua"}}
    qr = {"action_name": "QR_STR_SCENE", "expire_seconds": 600, "action_info": scene}
    ticket = platform.qrcodes.create(ApiRequest("POST", "/", {}, qr))["ticket"]
    await sender.subscribe("o-new", "c:xinhua")
    follow = bot.received[-1]
    assert (follow["Event"], follow["EventKey"], follow["Ticket"]) == (
        "subscribe",
        "qrscene_c:xinhua",
        ticket,
    )
    assert platform.user("o-new").qr_scene_str == "c:xinhua"
    assert platform.user("o-new").windows["event"].allowance == 3
    await sender.scan("o-new", "c:xinhua")
    assert (bot.received[-1]["Event"], bot.received[-1]["EventKey"]) == ("SCAN", "c:xinhua")
    clock.advance(600)
    with pytest.raises(LookupError, match="expired"):
        await sender.scan("o-new", "c:xinhua")
    await sender.click("o-new", "TIP_REPORT")
    assert bot.received[-1]["EventKey"] == "TIP_REPORT"
    await sender.location_event("o-loc", 39.9, 116.4, 30.0)
    assert "o-loc" not in platform.users  # LOCATION is no interaction
    await sender.unsubscribe("o-new")
    assert not platform.user("o-new").subscribed
    assert bot.received[-1]["Event"] == "unsubscribe"


async def test_pending_events_are_pushed(aiohttp_server: Server, platform: FakeWeChat) -> None:
    bot = Bot()
    sender = await start(aiohttp_server, bot, platform=platform)
    platform.follow("o-1")
    body = {"filter": {"is_to_all": True}, "msgtype": "text", "text": {"content": "通报"}}
    msg_id = platform.mass.sendall(ApiRequest("POST", "/", {}, body))["msg_id"]
    (sent,) = await sender.deliver_pending_events()
    event = bot.received[-1]
    assert event["Event"] == "MASSSENDJOBFINISH" and event["FromUserName"] == "mphelper"
    assert (event["MsgID"], event["Status"], event["SentCount"]) == (
        str(msg_id),
        "send success",
        "1",
    )
    assert sent.statuses == [200] and platform.pending_events == []

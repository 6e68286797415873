"""Forged calls: one signed URL from an access log must not carry other bodies.

WeChat's signature covers token, timestamp and nonce, not a plain body. So a nonce is good
for the body it came with, remembered across processes for the timestamp window; and an
account in safe mode (安全模式) refuses plain calls altogether.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import func, select

from bot.typedefs import metrics_key, sessionmaker_key
from storage.models import Delivery
from tests.conftest import Bot
from tests.test_webhook_guards import post, query, text_xml

StartBot = Callable[..., Awaitable[Bot]]


async def _deliveries(bot: Bot) -> int:
    async with bot.app[sessionmaker_key]() as session:
        return int(await session.scalar(select(func.count()).select_from(Delivery)) or 0)


async def test_one_signed_url_carries_one_body(start_bot: StartBot) -> None:
    first = await start_bot(wechat_mode="plain", wechat_aes_key=None)
    second = await start_bot(wechat_mode="plain", wechat_aes_key=None)  # another process
    leaked = query(nonce="leaked-nonce")
    genuine = text_xml("你好", msg_id="5001")
    status, reply = await post(first, genuine, leaked)
    assert status == 200
    # WeChat's retry of the same body under the same nonce is fine (and deduplicated).
    assert await post(second, genuine, leaked) == (200, reply)
    forged = [
        await post(bot, text_xml(f"伪造消息{n}", msg_id=str(6000 + n)), leaked)
        for n in range(20)
        for bot in (first, second)
    ]
    assert {status for status, _ in forged} == {403}
    assert await _deliveries(first) == 1
    counted = 'pingan_webhook_forged_total{reason="nonce"} 20.0'
    assert counted in first.app[metrics_key].render().decode()


async def test_safe_mode_refuses_plain_calls(start_bot: StartBot) -> None:
    bot = await start_bot(wechat_mode="safe")
    status, _ = await post(bot, text_xml("你好", msg_id="7001"), query(nonce="n-plain"))
    assert status == 403
    assert await _deliveries(bot) == 0
    safe = await start_bot(wechat_mode="safe", safe=True)
    answer = await safe.sender.text("o-safe", "你好")
    assert answer.reply is not None


async def test_safe_mode_needs_the_key(start_bot: StartBot) -> None:
    with pytest.raises(SystemExit, match="PINGAN_WECHAT_AES_KEY"):
        await start_bot(wechat_mode="safe", wechat_aes_key=None)

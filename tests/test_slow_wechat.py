"""A slow WeChat API must not hold up replies: no outbound HTTP inside a write transaction.

On SQLite every update goes through one writer connection; a token refresh that fetched while
holding it made every user's passive reply miss WeChat's 5 s. Both stores are checked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from bot.typedefs import api_key, pusher_key, sessionmaker_key
from simulator import FakeWeChat
from storage.models import AccessToken
from tests.conftest import APPID, Bot, until

StartBot = Callable[..., Awaitable[Bot]]
TOKEN = "/cgi-bin/token"


async def test_slow_token_endpoint_does_not_hold_up_other_replies(
    start_bot: StartBot, platform: FakeWeChat
) -> None:
    bot = await start_bot(reply_budget=1.0, api_timeout=5.0)  # slow, not failing
    await bot.sender.text("o-push", "你好")  # opens o-push's window for the push below
    assert platform.token_fetches == 0  # passive replies need no token

    # A push needs the first token, and WeChat takes 3 s to hand it out.
    platform.delay_next(TOKEN, 3.0)
    push = asyncio.create_task(bot.app[pusher_key].send_text("o-push", "您的线索已受理"))
    await until(lambda: bool(platform.calls_to(TOKEN)))

    answers = await asyncio.gather(*(bot.sender.text(f"o-{i}", "你好") for i in range(3)))
    assert not push.done()  # the fetch was in flight all along
    for answer in answers:
        # A passive reply, not the empty "success" of a reply that missed its budget.
        assert answer.reply is not None and answer.reply.content

    assert await push == "sent"
    assert [m["content"] for m in platform.inbox("o-push")] == ["您的线索已受理"]
    assert platform.token_fetches == 1


async def test_concurrent_callers_cause_one_fetch(
    start_bot: StartBot, platform: FakeWeChat
) -> None:
    first, second = await start_bot(), await start_bot()
    platform.delay_next(TOKEN, 0.3)  # long enough for every caller to find the fetch running
    managers = [b.app[api_key].tokens for b in (first, second)]
    tokens = await asyncio.gather(*(m.get() for m in managers for _ in range(20)))
    assert len(set(tokens)) == 1
    assert platform.token_fetches == 1
    async with first.app[sessionmaker_key]() as session:
        row = await session.get(AccessToken, APPID)
    assert row is not None and row.token == tokens[0]

    # A token WeChat rejected is replaced once, however many callers saw it rejected.
    renewed = await asyncio.gather(*(m.get(stale=tokens[0]) for m in managers for _ in range(5)))
    assert len(set(renewed)) == 1 and renewed[0] != tokens[0]
    assert platform.token_fetches == 2

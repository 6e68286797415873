"""Service inquiries end to end: matching, close calls, handoff, checklist, reminders."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from bot.typedefs import pusher_key, sessionmaker_key
from handlers.inquiries.kb import load_kb
from handlers.inquiries.matcher import CANDIDATE, default_matcher
from handlers.inquiries.reminders import send_due
from simulator import FakeClock, FakeWeChat
from storage.inquiries import InquiryRepo
from storage.models import Handoff, Reminder, UnansweredQuestion
from tests.conftest import Bot

StartBot = Callable[..., Awaitable[Bot]]
PHRASINGS = yaml.safe_load(
    (Path(__file__).parent / "data" / "faq_phrasings.yaml").read_text(encoding="utf-8")
)
CASES = [(entry_id, text) for entry_id, texts in PHRASINGS.items() for text in texts]


def test_every_entry_has_phrasings_and_at_least_forty_entries() -> None:
    kb = load_kb()
    assert len(kb.entries) >= 40
    assert set(PHRASINGS) == {e.id for e in kb.entries}
    assert all(len(texts) >= 2 for texts in PHRASINGS.values())


@pytest.mark.parametrize(("entry_id", "text"), CASES, ids=[f"{i}:{t}" for i, t in CASES])
def test_phrasing_finds_its_entry(entry_id: str, text: str) -> None:
    ranked = default_matcher().rank(text)
    top = ranked[0]
    assert top.entry.id == entry_id, [(m.entry.id, round(m.score, 2)) for m in ranked[:3]]
    assert top.score >= CANDIDATE


async def say(bot: Bot, openid: str, text: str) -> str:
    result = await bot.sender.text(openid, text)
    assert result.reply is not None, f"no reply to {text!r}"
    return str(result.reply.content)


async def count(bot: Bot, model: type) -> int:
    async with bot.app[sessionmaker_key]() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_confident_answer_through_the_webhook(bot: Bot) -> None:
    entry = load_kb().entries[0]
    answer = await say(bot, "o-ask", entry.questions[0])
    assert answer.startswith(f"【{entry.title}】")
    assert entry.answer in answer


async def test_no_match_is_logged_and_handed_off(bot: Bot) -> None:
    me = "o-nomatch"
    question = "村口那棵老槐树能不能砍"
    answer = await say(bot, me, question)
    assert "没有找到相关答案" in answer and "人工" in answer
    await say(bot, me, question)
    handed = await say(bot, me, "人工")
    assert "已转给民警" in handed
    async with bot.app[sessionmaker_key]() as session:
        gaps = await InquiryRepo(session).gaps()
        [handoff] = (await session.execute(select(Handoff))).scalars().all()
    assert gaps[0].example == question and gaps[0].asked == 2
    assert (handoff.openid, handoff.question) == (me, question)
    # 人工 with no question pending asks for it first.
    assert "请问您要咨询什么" in await say(bot, "o-fresh", "人工")
    assert "已转给民警" in await say(bot, "o-fresh", "我家狗丢了能帮忙找吗")
    assert await count(bot, Handoff) == 2


@pytest.mark.parametrize("nonsense", ["asdfgh", "。。。", "😀", "啊啊啊"])
async def test_nonsense_before_handoff_is_not_forwarded(bot: Bot, nonsense: str) -> None:
    me = "o-nonsense"
    assert "没看懂" in await say(bot, me, nonsense)
    assert "请问您要咨询什么" in await say(bot, me, "人工")
    assert "没看懂" in await say(bot, me, nonsense)  # still not a question
    assert "已转给民警" in await say(bot, me, "村里的路灯坏了能找谁修")
    async with bot.app[sessionmaker_key]() as session:
        [handoff] = (await session.execute(select(Handoff))).scalars().all()
    assert handoff.question == "村里的路灯坏了能找谁修"
    assert await count(bot, UnansweredQuestion) == 0


async def test_handoff_menu_key_asks_what_is_needed(bot: Bot) -> None:
    result = await bot.sender.click("o-menu", "HANDOFF")
    assert result.reply is not None and "请问您要咨询什么" in str(result.reply.content)
    assert await count(bot, Handoff) == 0


async def test_close_call_offers_numbered_choices(bot: Bot) -> None:
    me = "o-close"
    answer = await say(bot, me, "证件")
    if "您想问的是哪一个" not in answer:
        pytest.skip("the sample knowledge base answered '证件' outright")
    assert "1. " in answer
    picked = await say(bot, me, "1")
    assert picked.startswith("【")


def _entry_with_dialog() -> tuple[str, str]:
    entry = next(e for e in load_kb().entries if e.dialog is not None)
    return entry.id, entry.questions[0]


async def test_checklist_dialog_and_reminder(
    bot: Bot, clock: FakeClock, platform: FakeWeChat
) -> None:
    me = "o-check"
    entry_id, question = _entry_with_dialog()
    entry = load_kb().get(entry_id)
    assert entry is not None and entry.dialog is not None
    answer = await say(bot, me, question)
    assert "「清单」" in answer
    step = await say(bot, me, "清单")
    node = entry.dialog.nodes[entry.dialog.start]
    assert step.startswith(node.ask)
    assert (await say(bot, me, "99")).startswith("没有看懂您的回复。\n" + node.ask)
    # Always take the first option until the materials come.
    while True:
        option = node.options[0]
        reply = await say(bot, me, "1")
        if option.next is None:
            break
        node = entry.dialog.nodes[option.next]
        assert reply.startswith(node.ask)
    assert all(m in reply for m in option.materials)
    assert "提醒我" in reply
    assert "哪天去办" in await say(bot, me, "提醒我")
    assert "没有看懂" in await say(bot, me, "改天吧")
    confirmed = await say(bot, me, "后天")
    assert "会把材料清单发给您" in confirmed
    [reminder] = await _reminders(bot)
    assert all(m in reminder.text for m in option.materials)

    pusher = bot.app[pusher_key]
    sessionmaker = bot.app[sessionmaker_key]
    assert await send_due(sessionmaker=sessionmaker, pusher=pusher, clock=clock) == 0
    clock.set(reminder.due_at.timestamp() + 1)
    assert await send_due(sessionmaker=sessionmaker, pusher=pusher, clock=clock) == 1
    assert await send_due(sessionmaker=sessionmaker, pusher=pusher, clock=clock) == 0
    assert platform.inbox(me)[-1]["content"] == reminder.text


async def _reminders(bot: Bot) -> list[Reminder]:
    async with bot.app[sessionmaker_key]() as session:
        return list((await session.execute(select(Reminder))).scalars())


async def test_greeting_is_not_an_unanswered_question(bot: Bot) -> None:
    assert "要举报，直接说发生了什么" in await say(bot, "o-hi", "你好")
    assert await count(bot, UnansweredQuestion) == 0

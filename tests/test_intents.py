"""What residents want, read from what they type: scored on the blind corpus and driven
through the webhook for the cases the issue names."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.typedefs import sessionmaker_key
from handlers.intents.reader import Intent, load_intents
from storage.models import DialogState, Tip, TipMedia
from tests.conftest import Bot
from tests.test_tips import count, say, tips

CORPUS = Path(__file__).resolve().parent / "data" / "intent_corpus.yaml"
#: Ordinary messages that are service questions, news, chit-chat, false friends or questions
#: about emergencies: none of them is a fraud or says what happened for a report.
NOT_A_REPORT = {"service", "news", "chitchat", "false_friend", "emergency_question"}


@cache
def corpus() -> dict[str, list[dict[str, Any]]]:
    loaded: dict[str, list[dict[str, Any]]] = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))
    return loaded


def _report_ok(case: dict[str, Any]) -> Callable[[Intent], bool]:
    def ok(intent: Intent) -> bool:
        if intent.kind not in ("report", "fraud") or intent.described != case["description_kept"]:
            return False
        return case["category"] == "other" or intent.category == case["category"]

    return ok


def _expectations() -> list[tuple[str, str, Callable[[Intent], bool]]]:
    """(section, text, check) for every message of the corpus that has an expected intent."""
    data = corpus()
    cases: list[tuple[str, str, Callable[[Intent], bool]]] = []
    for kind in ("fraud", "my_reports", "cancel"):
        cases += [(kind, c["text"], lambda i, k=kind: i.kind == k) for c in data[kind]]
    cases += [
        ("greeting", c["text"], lambda i: i.kind in ("greeting", "thanks"))
        for c in data["greeting"]
    ]
    cases += [("report", c["text"], _report_ok(c)) for c in data["report"]]
    cases += [("offtopic", c["text"], lambda i: i.kind == "other") for c in data["offtopic"]]
    for case in data["ordinary"]:
        if case["why"] == "past_crime_tip":
            cases.append(("past tip", case["text"], lambda i: i.kind in ("report", "fraud")))
        elif case["why"] in NOT_A_REPORT:
            # Asking how to report ("被打了怎么报警") may start one; nothing else may.
            cases.append(
                (
                    "not a report",
                    case["text"],
                    lambda i: i.kind != "fraud" and not (i.kind == "report" and i.described),
                )
            )
    return cases


def test_the_blind_corpus_is_read_right() -> None:
    rules = load_intents()
    cases = _expectations()
    wrong = [
        (section, text, rules.read(text))
        for section, text, ok in cases
        if not ok(rules.read(text))
    ]
    for section, text, got in wrong:
        print(f"  {section}: {text!r} → {got}")
    print(f"\n{len(cases) - len(wrong)}/{len(cases)} read right")
    assert len(cases) >= 500 and not wrong


def test_emergencies_are_left_to_the_emergency_route() -> None:
    """The reader never sends an emergency to the knowledge base as a greeting or a cancel."""
    rules = load_intents()
    for case in corpus()["emergency"]:
        assert rules.read(case["text"]).kind not in ("cancel", "greeting", "thanks"), case


async def test_a_first_message_that_says_what_happened_starts_the_report(bot: Bot) -> None:
    me = "o-ebike"
    answer = await say(bot, me, "我要举报，电动车被偷了")
    assert "已记下（盗窃）：我要举报，电动车被偷了" in answer and "事发地点" in answer
    for step in ("小区车棚", "完成", "1"):
        await say(bot, me, step)
    assert "举报已提交" in await say(bot, me, "1")
    [tip] = await tips(bot)
    assert (tip.category, tip.description) == ("theft", "我要举报，电动车被偷了")


async def test_a_bare_wish_asks_what_happened(bot: Bot) -> None:
    assert "请选择线索类别" in await say(bot, "o-w1", "我想报案")
    assert "请简要描述" in await say(bot, "o-w2", "我要举报赌博的")
    assert "请选择线索类别" in await say(bot, "o-w3", "我要抱案")  # a voice typo


async def test_a_fraud_victim_reaches_the_fraud_lane_at_once(bot: Bot) -> None:
    answer = await say(bot, "o-scammed", "我被骗了三万块钱怎么办")
    assert answer.startswith("请立即拨打 96110")
    assert "收款账号" in answer  # money has moved: the account to stop payment on, next


async def test_own_reports_and_progress(bot: Bot) -> None:
    me = "o-progress"
    await say(bot, me, "我要举报，电动车被偷了")
    for step in ("跳过", "完成", "1", "1"):
        await say(bot, me, step)
    [tip] = await tips(bot)
    for question in ("查一下我的举报", "举报进度", "我上次报的案子怎么样了"):
        answer = await say(bot, me, question)
        assert tip.code in answer and "报案回执" in answer, question


@pytest.mark.parametrize("words", ["算了不报了", "不要了", "退出", "算了", "不举报了"])
async def test_natural_words_cancel_a_report(bot: Bot, words: str) -> None:
    me = "o-quitter"
    await say(bot, me, "举报")
    await say(bot, me, "2")
    await say(bot, me, "车棚里的电动车被偷了")
    await say(bot, me, "跳过")
    await bot.sender.image(me, b"\xff\xd8\xff\xe0" + b"0" * 64)  # a draft photo (even a bad one)
    assert await say(bot, me, words) == "已取消，填写的内容没有保存。"
    async with bot.app[sessionmaker_key]() as session:
        state = await session.get(DialogState, me)
    assert state is None or state.state is None
    assert await count(bot, Tip) == 0 and await count(bot, TipMedia) == 0


async def test_back_with_上一步_and_greetings(bot: Bot) -> None:
    me = "o-steps"
    await say(bot, me, "举报")
    await say(bot, me, "2")
    assert "请选择线索类别" in await say(bot, me, "上一步")
    await say(bot, me, "取消")
    assert "要举报，直接说发生了什么" in await say(bot, me, "你好")
    assert await say(bot, me, "谢谢") == "不客气！有事随时找我们。"


async def test_the_place_step_takes_places_only(bot: Bot) -> None:
    me = "o-where"
    await say(bot, me, "我要举报，电动车被偷了")
    for nonsense in ("asdf", "。。。", "哈哈哈"):
        assert "没看出这是哪里" in await say(bot, me, nonsense), nonsense
    assert "照片" in await say(bot, me, "不知道啊")
    await say(bot, me, "返回")
    assert "照片" in await say(bot, me, "村东头小卖部门口")
    for step in ("完成", "1"):
        await say(bot, me, step)
    await say(bot, me, "1")
    [tip] = await tips(bot)
    assert tip.address == "村东头小卖部门口"


async def test_english_words_for_the_commands(bot: Bot) -> None:
    me = "o-english"
    await say(bot, me, "language")
    await say(bot, me, "2")
    assert "Choose the type of tip" in await say(bot, me, "report")
    assert await say(bot, me, "cancel") == "Cancelled. Nothing you entered was saved."
    assert "no reports yet" in await say(bot, me, "my reports")
    assert "Hello" in await say(bot, me, "hello")


async def test_a_wish_to_stop_said_in_passing_and_a_description_that_only_sounds_like_one(
    bot: Bot,
) -> None:
    me = "o-passing"
    await say(bot, me, "举报")
    await say(bot, me, "3")  # 矛盾纠纷
    # Inside the description step a sentence is a description, whatever words it uses.
    assert "事发地点" in await say(bot, me, "他说不用了就走了")
    assert await say(bot, me, "搞错了，这个不报了") == "已取消，填写的内容没有保存。"
    assert await count(bot, Tip) == 0

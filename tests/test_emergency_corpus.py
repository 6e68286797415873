"""Emergency detection measured both ways, on two corpora of resident phrasings.

``tests/data/emergency_phrasings.yaml`` was written before the rules were tuned;
``tests/data/intent_corpus.yaml`` was written blind, by someone who never saw the word lists.
The issue's bar on both: every emergency caught, no ordinary message caught (past events,
tips, questions, news, 打电话/火锅/偷偷, fraud victims who type 救命, reports of past
crimes, greetings), and the first number named is the one that fits (a fire leads with 119,
a collapse with 120). Then through the webhook: an emergency is never answered with an FAQ,
and alarming words inside a report's description do not hijack the report.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

from bot.typedefs import sessionmaker_key
from handlers.tips.rules import load_rules
from handlers.tips.wordtrie import compile_words
from storage.models import Tip
from tests.conftest import Bot
from tests.test_tips import say

DATA = Path(__file__).resolve().parent / "data"
OLD, BLIND = "emergency_phrasings.yaml", "intent_corpus.yaml"
# Sections that must never fire the emergency route. A fraud victim typing 救命 goes to the
# fraud lane; a report describes something past.
CALM = {
    OLD: ("non_emergency",),
    BLIND: ("ordinary", "fraud", "report", "my_reports", "cancel", "greeting", "offtopic"),
}
# What the issue asks the blind corpus to cover.
KINDS = {
    "knife", "gun", "stick", "fight", "burglary", "home_invasion", "robbery",
    "domestic_violence", "missing_child", "missing_elderly", "kidnapping", "locked_in",
    "fire", "smoke", "gas_leak", "lift_trapped", "trapped", "collapse", "bleeding",
    "poisoning", "seizure", "heart", "electrocution", "fall", "traffic_injury", "drowning",
}  # fmt: skip


@cache
def corpus(name: str) -> dict[str, Any]:
    return dict(yaml.safe_load((DATA / name).read_text(encoding="utf-8")))


def text_of(case: str | dict[str, str]) -> str:
    return case if isinstance(case, str) else case["text"]


@dataclass(frozen=True)
class Score:
    emergencies: int
    calm: int
    missed: tuple[tuple[str, str], ...]  # (expected number, text)
    wrong_number: tuple[tuple[str, str, str, str], ...]  # (expected, given, word, text)
    false_alarms: tuple[tuple[str, str, str, str], ...]  # (section, number, word, text)


@cache
def score(name: str) -> Score:
    rules = load_rules()
    cases = corpus(name)
    missed, wrong, alarms = [], [], []
    for case in cases["emergency"]:
        found = rules.emergency(case["text"])
        if found is None:
            missed.append((case["number"], case["text"]))
        elif found.number != case["number"]:
            wrong.append((case["number"], found.number, found.word, case["text"]))
    calm = [(section, text_of(c)) for section in CALM[name] for c in cases[section]]
    for section, text in calm:
        if (found := rules.emergency(text)) is not None:
            alarms.append((section, found.number, found.word, text))
    return Score(len(cases["emergency"]), len(calm), tuple(missed), tuple(wrong), tuple(alarms))


def test_the_corpora_are_big_enough() -> None:
    blind = corpus(BLIND)
    assert len(blind["emergency"]) >= 150
    assert len(blind["ordinary"]) >= 300
    assert KINDS - {c["kind"] for c in blind["emergency"]} == set()
    old = corpus(OLD)
    assert len(old["emergency"]) >= 170
    assert len(old["non_emergency"]) >= 170
    for cases in (blind, old):
        assert {c["number"] for c in cases["emergency"]} == {"110", "119", "120"}


@pytest.mark.parametrize("name", [OLD, BLIND])
def test_every_emergency_is_caught(name: str) -> None:
    s = score(name)
    print(f"\n{name}: caught {s.emergencies - len(s.missed)} of {s.emergencies}")
    for number, text in s.missed:
        print(f"  MISS {number} {text}")
    assert s.missed == ()


@pytest.mark.parametrize("name", [OLD, BLIND])
def test_no_ordinary_message_is_an_emergency(name: str) -> None:
    s = score(name)
    print(f"\n{name}: false alarms {len(s.false_alarms)} of {s.calm}")
    for section, number, word, text in s.false_alarms:
        print(f"  FALSE {section} {number} [{word}] {text}")
    assert s.false_alarms == ()


@pytest.mark.parametrize("name", [OLD, BLIND])
def test_the_first_number_fits_the_emergency(name: str) -> None:
    s = score(name)
    print(f"\n{name}: wrong number {len(s.wrong_number)} of {s.emergencies}")
    for expected, given, word, text in s.wrong_number:
        print(f"  NUMBER want {expected} got {given} [{word}] {text}")
    assert s.wrong_number == ()


def test_the_chunked_first_scan_finds_what_the_plain_trie_finds() -> None:
    # The one scan for "any group word" is chunked by first character for speed; chunking
    # must change no match, on every message of both corpora.
    rules = load_rules().emergencies
    items = [w for group in rules.groups for w in group.items]
    plain, chunked = compile_words(items), compile_words(items, chunked=True)
    assert plain.pattern != chunked.pattern  # enough first characters to be chunked
    for name in (OLD, BLIND):
        for cases in corpus(name).values():
            for case in cases:
                text = text_of(case)
                found = [m.span() for m in plain.finditer(text)]
                assert [m.span() for m in chunked.finditer(text)] == found, text


async def emergency_tips(bot: Bot) -> int:
    async with bot.app[sessionmaker_key]() as session:
        query = select(func.count()).select_from(Tip).where(Tip.source == "emergency")
        return int(await session.scalar(query) or 0)


@pytest.mark.parametrize("text", ["有人拿刀", "有人打架", "有人在打架"])
async def test_an_emergency_gets_the_emergency_answer_not_an_faq(bot: Bot, text: str) -> None:
    # Once 有人拿刀 got the ID-card answer and 有人打架 "no answer".
    answer = await say(bot, "o-witness", text)
    assert answer.startswith("情况紧急，请立即拨打 110（报警）！")
    assert await emergency_tips(bot) == 1


@pytest.mark.parametrize(
    "description",
    [
        "有人正在偷偷贩毒",  # 正在 + the 偷 of 偷偷 once fired the emergency route
        "我家门口的监控拍到有人半夜撬我家车门，想报案",
        "上周在集上有人打架，还有人掏刀子了，后来被劝开了",
    ],
)
async def test_alarming_words_in_a_report_do_not_hijack_it(bot: Bot, description: str) -> None:
    me = "o-reporter"
    await say(bot, me, "举报")
    assert "请简要描述" in await say(bot, me, "5")
    answer = await say(bot, me, description)
    assert "立即拨打" not in answer
    assert "地点" in answer  # the report goes on to its next question
    assert await emergency_tips(bot) == 0

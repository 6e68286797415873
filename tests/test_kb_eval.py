"""The blind evaluation set (tests/data/kb_eval.yaml) scored with the matcher, plus the
first-reply length of every entry and a few checks through the webhook.

Scores print with ``pytest -s``; the bar: ≥ 90 % of the entry-labelled questions answered
confidently and right, none answered confidently and wrong, every off-topic question sent
to its agency (or answered "不知道 + 人工"), never offered unrelated choices.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from handlers.inquiries.answers import render_details, render_entry, render_materials
from handlers.inquiries.kb import Entry, load_kb
from handlers.inquiries.matcher import Verdict, default_matcher
from tests.conftest import Bot
from tests.test_inquiries import say

EVAL: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).parent / "data" / "kb_eval.yaml").read_text(encoding="utf-8")
)
OFFTOPIC = [item for item in EVAL if item["expect"] == "offtopic"]
LABELLED = [item for item in EVAL if item["expect"] not in ("offtopic", "missing")]


def _agency(verdict: Verdict) -> str | None:
    return verdict.redirect.agency.split("（")[0].split(" ")[0] if verdict.redirect else None


def outcome(item: dict[str, Any]) -> str:
    """right / wrong (confident) / choices / redirect / none, against the item's labels."""
    verdict = default_matcher().match(item["q"])
    allowed = {item["expect"], *item.get("also", ())}
    if item["expect"] == "offtopic":
        if verdict.redirect is not None:
            return "redirect" if _agency(verdict) in item["goes_to"] else "wrong"
    elif verdict.redirect is not None:
        return "right" if verdict.redirect.id in allowed else "wrong"
    if verdict.answer is not None:
        return "right" if verdict.answer.id in allowed else "wrong"
    return "choices" if verdict.candidates else "none"


def test_eval_set_is_labelled_against_the_knowledge_base() -> None:
    kb = load_kb()
    ids = {e.id for e in kb.entries} | {r.id for r in kb.redirects}
    assert not [i for i in EVAL if i["expect"] == "missing"], "label the missing ones"
    for item in LABELLED:
        assert {item["expect"], *item.get("also", ())} <= ids, item


def test_scores_per_label_kind() -> None:
    table = Counter(
        ("entry" if item in LABELLED else item["expect"], outcome(item)) for item in EVAL
    )
    for kind in ("entry", "offtopic"):
        row = {k: table[(kind, k)] for k in ("right", "wrong", "choices", "redirect", "none")}
        print(f"\n{kind:8} {row}")
    right = table[("entry", "right")]
    assert right >= 0.9 * len(LABELLED), f"{right}/{len(LABELLED)} confident and right"
    assert table[("entry", "wrong")] == 0
    assert table[("offtopic", "redirect")] + table[("offtopic", "none")] == len(OFFTOPIC)


@pytest.mark.parametrize("item", LABELLED, ids=[i["q"][:30] for i in LABELLED])
def test_never_confidently_wrong(item: dict[str, Any]) -> None:
    assert outcome(item) != "wrong", default_matcher().rank(item["q"])[:3]


@pytest.mark.parametrize("item", OFFTOPIC, ids=[i["q"][:30] for i in OFFTOPIC])
def test_offtopic_is_redirected_never_offered_choices(item: dict[str, Any]) -> None:
    assert outcome(item) in ("redirect", "none"), default_matcher().rank(item["q"])[:3]


@pytest.mark.parametrize("entry", load_kb().entries, ids=lambda e: e.id)
def test_first_reply_fits_a_phone_screen_and_the_rest_is_on_request(entry: Entry) -> None:
    first = render_entry(entry)
    assert len(first.splitlines()) <= 8 and len(first) <= 220, (len(first), first)
    if entry.materials:
        assert "「材料」" in first
        assert all(m in render_materials(entry) for m in entry.materials)
    if entry.detail:
        assert "「详情」" in first and entry.detail in render_details(entry)


def test_redirect_answers_are_short() -> None:
    for redirect in load_kb().redirects:
        assert len(redirect.answer) <= 120 and "\n" not in redirect.answer, redirect.id


async def test_offtopic_through_the_webhook_is_sent_to_its_agency(bot: Bot) -> None:
    reply = await say(bot, "o-off", "低保咋申请 俺家困难")
    assert "不是派出所办理的事" in reply and "民政" in reply and "「人工」" in reply
    assert "您想问的是哪一个" not in reply
    # 人工 after a redirect forwards the question itself.
    assert "已转给民警" in await say(bot, "o-off", "人工")


async def test_materials_and_details_after_an_answer(bot: Bot) -> None:
    entry = load_kb().get("id_card_lost")
    assert entry is not None
    first = await say(bot, "o-more", "身份证丢了")
    assert first.startswith(f"【{entry.title}】") and "「材料」" in first
    materials = await say(bot, "o-more", "材料")
    assert all(m in materials for m in entry.materials)
    details = await say(bot, "o-more", "详情")
    assert entry.detail is None or entry.detail in details
    assert entry.where is not None and entry.where in details


async def test_dialect_question_gets_the_plain_one_s_answer(bot: Bot) -> None:
    assert (await say(bot, "o-dia", "俺身份证丢了咋整")).startswith("【身份证丢了怎么补】")
    assert (await say(bot, "o-dia", "身份证丢了咋办啊")).startswith("【身份证丢了怎么补】")
    holiday = await say(bot, "o-dia", "国庆节放假有人办身份证吗")
    assert holiday.startswith("【节假日派出所上班吗】")

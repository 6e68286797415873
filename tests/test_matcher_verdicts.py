"""The matcher's verdicts stay put: every phrasing we have against the verdicts recorded in
tests/data/matcher_verdicts.json (``python bench/matcher_snapshot.py --write`` records them;
run it without ``--write`` to see what changed), a fixed sample recorded before ``match``
stopped scoring every target, and ``match`` scoring only the targets that can change a
verdict agrees with the verdict on the complete ranking."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
import yaml

from handlers.inquiries.matcher import (
    CANDIDATE,
    CONFIDENT,
    MARGIN,
    RATIO,
    Matcher,
    _verdict,
    default_matcher,
)

DATA = Path(__file__).parent / "data"
SNAPSHOT = json.loads((DATA / "matcher_verdicts.json").read_text(encoding="utf-8"))
#: The snapshot keeps scores to ten decimals.
TOLERANCE = 1e-9


def _record(matcher: Matcher, question: str) -> list[Any]:
    """As bench/matcher_snapshot.py records it: [answer, redirect, candidates, rank's first
    three, named_agency]."""
    verdict = matcher.match(question)
    named = matcher.named_agency(question)
    return [
        verdict.answer and verdict.answer.id,
        verdict.redirect and verdict.redirect.id,
        [[m.entry.id, m.score] for m in verdict.candidates],
        [[m.entry.id, m.score] for m in matcher.rank(question)[:3]],
        named and named.id,
    ]


def _same(now: Any, was: Any) -> bool:
    if isinstance(now, float) and isinstance(was, int | float):
        return math.isclose(now, was, rel_tol=0, abs_tol=TOLERANCE)
    if isinstance(now, list) and isinstance(was, list):
        return len(now) == len(was) and all(map(_same, now, was))
    return bool(now == was)


def test_every_recorded_phrasing_gets_the_same_verdict() -> None:
    matcher = default_matcher()
    changed = []
    for question, was in SNAPSHOT.items():
        now = _record(matcher, question)
        if not _same(now, was):
            changed.append(f"{question!r}\n  was {was}\n  now {now}")
    assert len(SNAPSHOT) > 2000
    assert not changed, f"{len(changed)} of {len(SNAPSHOT)} verdicts changed:\n" + "\n".join(
        changed[:40]
    )


# question → (answer, redirect, [(candidate, score)…]) as the matcher gave them before.
SAMPLE: dict[str, tuple[str | None, str | None, list[tuple[str, float]]]] = {
    "上户口": ("birth_registration", None, [("birth_registration", 1.0)]),
    "身份證到期了怎麼換": ("id_card_renewal", None, [("id_card_renewal", 1.0)]),
    "居主证怎么办": ("residence_permit", None, [("residence_permit", 1.0)]),
    "护找过期了咋办": ("passport", None, [("passport", 0.82074)]),
    "户及室几点上班": ("office_hours", None, [("office_hours", 0.757789)]),
    "身份证能加急吗？加急多少钱": ("id_card_urgent", None, [("id_card_urgent", 0.822733)]),
    "办身份证要多少钱补办呢": ("id_card_lost", None, [("id_card_lost", 0.671091)]),
    "不带户口本光带身份证行不行": ("one_id_services", None, [("one_id_services", 0.687756)]),
    "低保咋申请 俺家困难": (None, "civil_affairs", []),
    "火灾保险怎么买": (None, "social_security", []),
    "孩子在外地医院生的，能回老家派出所上户口吗？": (
        None,
        None,
        [
            ("id_card_remote", 0.359651),
            ("birth_registration", 0.356666),
            ("hukou_move_out", 0.346093),
        ],
    ),
    "暖气不热找谁": (
        None,
        None,
        [("hukou_book_replace", 0.302035), ("lost_property_lost", 0.297234)],
    ),
    "我在这边租房子住了快一年了，孩子要上学，学校要居住证，我从来没办过，应该怎么办，要多久？": (
        None,
        None,
        [("residence_permit_endorse", 0.220307)],
    ),
    "退休了没事干，下午跟邻居打打麻将，不玩钱的": (None, None, []),
}


@pytest.mark.parametrize("question", SAMPLE, ids=[q[:20] for q in SAMPLE])
def test_sample_verdicts_are_unchanged(question: str) -> None:
    answer, redirect, candidates = SAMPLE[question]
    verdict = default_matcher().match(question)
    assert (verdict.answer and verdict.answer.id) == answer
    assert (verdict.redirect and verdict.redirect.id) == redirect
    assert [m.entry.id for m in verdict.candidates] == [c for c, _ in candidates]
    assert [m.score for m in verdict.candidates] == pytest.approx(
        [s for _, s in candidates], abs=1e-6
    )


def _questions() -> list[str]:
    phrasings = yaml.safe_load((DATA / "faq_phrasings.yaml").read_text(encoding="utf-8"))
    evaluation = yaml.safe_load((DATA / "kb_eval.yaml").read_text(encoding="utf-8"))
    intents = yaml.safe_load((DATA / "intent_corpus.yaml").read_text(encoding="utf-8"))
    return [
        *(text for texts in phrasings.values() for text in texts),
        *(item["q"] for item in evaluation),
        *(item["text"] for items in intents.values() for item in items),
    ]


def test_scoring_only_what_can_change_the_verdict_changes_nothing() -> None:
    matcher = default_matcher()
    for question in _questions():
        query = matcher.normalise(question)
        if not query:
            continue
        pruned = matcher._scored(query, complete=False)
        assert _verdict(pruned) == _verdict(matcher.rank(question)), question


def test_a_target_below_candidate_changes_no_verdict() -> None:
    """``match`` leaves out targets scoring below CANDIDATE: the second entry's score, which
    the verdict also reads, matters only within MARGIN or RATIO of a first at CONFIDENT."""
    assert min(CONFIDENT - MARGIN, CONFIDENT / RATIO) >= CANDIDATE

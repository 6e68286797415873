"""Scores on held-out sets written blind, after the word lists were tuned.

``holdout.yaml`` was written after the first tuning and its misses, by class, informed a
second round; ``holdout2.yaml`` has been used for nothing but these scores. The bars are
the scores measured when it was added, so that a change that makes understanding worse on
unseen text fails here; they are not targets to tune toward.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from handlers.intents.reader import Intent, load_intents
from handlers.tips.rules import load_rules

DATA = Path(__file__).resolve().parent / "data"
Check = Callable[[dict[str, Any], Intent], bool]

#: Section → what a right reading is.
SECTIONS: dict[str, Check] = {
    "fraud": lambda case, got: got.kind == "fraud",
    "report": lambda case, got: (
        got.kind in ("report", "fraud")
        and (case["category"] == "other" or got.category == case["category"])
        and got.described == case["described"]
    ),
    "my_reports": lambda case, got: got.kind == "my_reports",
    "greeting": lambda case, got: got.kind in ("greeting", "thanks"),
    "ordinary": lambda case, got: (
        got.kind != "fraud" and not (got.kind == "report" and got.described)
    ),
    "questions": lambda case, got: got.kind == "other",
    "offtopic": lambda case, got: got.kind == "other",
}


@cache
def holdout(name: str) -> dict[str, list[dict[str, Any]]]:
    loaded: dict[str, list[dict[str, Any]]] = yaml.safe_load(
        (DATA / name).read_text(encoding="utf-8")
    )
    return loaded


def emergency_scores(name: str) -> tuple[float, float, float]:
    """(share of emergencies caught, share of those with the right number, false alarms)."""
    data, rules = holdout(name), load_rules()
    found = [(case, rules.emergency(case["text"])) for case in data["emergency"]]
    caught = [(case, hit) for case, hit in found if hit is not None]
    right = sum(hit.number == case["number"] for case, hit in caught if hit is not None)
    calm = [c["text"] for k, v in data.items() if k != "emergency" for c in v]
    alarms = sum(rules.emergency(text) is not None for text in calm)
    return len(caught) / len(found), right / max(len(caught), 1), alarms / len(calm)


def intent_score(name: str, section: str) -> float:
    reader, check = load_intents(), SECTIONS[section]
    cases = holdout(name)[section]
    return sum(check(case, reader.read(case["text"])) for case in cases) / len(cases)


def stop_score(name: str) -> float:
    reader = load_intents()
    cases = holdout(name)["cancel"]
    return sum(reader.stops(case["text"]) for case in cases) / len(cases)


# Measured when holdout2.yaml was added (2026-11-25), before any change it could inform.
EMERGENCY_BARS = {"holdout2.yaml": (0.88, 0.98, 0.017)}
INTENT_BARS = {
    "fraud": 0.72,
    "report": 0.73,
    "my_reports": 0.66,
    "greeting": 0.86,
    "ordinary": 0.93,
    "questions": 0.93,
    "offtopic": 0.96,
}
STOP_BAR = 0.8
#: (confident right answers, confident wrong answers and redirects): measured, not aimed.
#: holdout2: 56 of 72 and 19 of 105 when first measured; the subject rule (kb/facets.yaml),
#: whose idea came from reading those misses, made it 55 and 14, so it is no longer blind.
#: holdout3, written and labelled after that rule: 61 of 77 and 14 of 120 (63 and 18
#: without the rule).
KB_BARS = {"holdout2_labels.yaml": (55, 14), "holdout3_labels.yaml": (61, 14)}


@pytest.mark.parametrize("name", ["holdout.yaml", "holdout2.yaml"])
def test_emergencies_on_unseen_text(name: str) -> None:
    caught, right, alarms = emergency_scores(name)
    print(f"\n{name}: caught {caught:.1%}, right number {right:.1%}, false alarms {alarms:.1%}")
    if name in EMERGENCY_BARS:
        min_caught, min_right, max_alarms = EMERGENCY_BARS[name]
        assert caught >= min_caught and right >= min_right and alarms <= max_alarms


@pytest.mark.parametrize("section", sorted(INTENT_BARS))
def test_intents_on_unseen_text(section: str) -> None:
    score = intent_score("holdout2.yaml", section)
    print(f"\nholdout2 {section}: {score:.1%}")
    assert score >= INTENT_BARS[section]


def test_wishes_to_stop_on_unseen_text() -> None:
    assert stop_score("holdout2.yaml") >= STOP_BAR


@pytest.mark.parametrize("labels_file", sorted(KB_BARS))
def test_the_knowledge_base_on_unseen_questions(labels_file: str) -> None:
    """Questions labelled against the knowledge base by someone who never saw the matcher:
    how many get a confident right answer, and how many a confident wrong one."""
    from handlers.inquiries.matcher import default_matcher

    matcher = default_matcher()
    labels = yaml.safe_load((DATA / labels_file).read_text(encoding="utf-8"))
    entries = [
        case for case in labels if case["expect"] not in ("redirect", "offtopic", "missing")
    ]
    right = wrong = redirected = 0
    for case in labels:
        verdict = matcher.match(case["text"])
        said = verdict.redirect or verdict.answer  # a redirect, an answer, or neither
        if said is None:
            continue
        expected = {case["expect"], *case.get("also", []), *([case["to"]] if "to" in case else [])}
        if said.id not in expected:
            wrong += 1
        elif case in entries:
            right += 1
        else:
            redirected += 1
    print(f"\n{labels_file}: {right}/{len(entries)} right, {redirected} redirected,")
    print(f"{wrong} of {len(labels)} wrong (confident answers and redirects)")
    min_right, max_wrong = KB_BARS[labels_file]
    assert right >= min_right and wrong <= max_wrong

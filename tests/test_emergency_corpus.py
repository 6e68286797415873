"""Emergency detection measured both ways on a corpus of resident phrasings.

``tests/data/emergency_phrasings.yaml`` was written before the rules were tuned; these tests
report recall on real emergencies, false positives on look-alikes (past events, tips,
questions, 打电话/火锅/偷懒) and whether the number offered (110/119/120) is the right one.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from handlers.tips.rules import load_rules

CORPUS = Path(__file__).resolve().parent / "data" / "emergency_phrasings.yaml"

MIN_RECALL = 0.97
MAX_FALSE_POSITIVES = 0.03
MIN_NUMBER_CORRECT = 0.95


@dataclass(frozen=True)
class Score:
    recall: float
    false_positive_rate: float
    number_correct: float
    missed: tuple[tuple[str, str], ...]  # (text, expected number)
    false_alarms: tuple[tuple[str, str, str], ...]  # (text, number, matched word)
    wrong_number: tuple[tuple[str, str, str], ...]  # (text, expected, given)


@cache
def score() -> Score:
    corpus = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))
    rules = load_rules()
    missed, wrong = [], []
    detected = 0
    for case in corpus["emergency"]:
        text, expected = case["text"], case["number"]
        found = rules.emergency(text)
        if found is None:
            missed.append((text, expected))
            continue
        detected += 1
        if found.number != expected:
            wrong.append((text, expected, found.number))
    alarms = []
    for text in corpus["non_emergency"]:
        found = rules.emergency(text)
        if found is not None:
            alarms.append((text, found.number, found.word))
    total = len(corpus["emergency"])
    return Score(
        recall=detected / total,
        false_positive_rate=len(alarms) / len(corpus["non_emergency"]),
        number_correct=(detected - len(wrong)) / detected if detected else 0.0,
        missed=tuple(missed),
        false_alarms=tuple(alarms),
        wrong_number=tuple(wrong),
    )


def test_corpus_is_big_enough() -> None:
    corpus = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))
    assert len(corpus["emergency"]) >= 170
    assert len(corpus["non_emergency"]) >= 170
    assert {c["number"] for c in corpus["emergency"]} == {"110", "119", "120"}


def test_recall() -> None:
    s = score()
    print(f"\nrecall {s.recall:.3f}; missed {len(s.missed)}:")
    for text, number in s.missed:
        print(f"  MISS {number} {text}")
    assert s.recall >= MIN_RECALL


def test_false_positives() -> None:
    s = score()
    print(f"\nfalse positives {s.false_positive_rate:.3f}; {len(s.false_alarms)}:")
    for text, number, word in s.false_alarms:
        print(f"  FALSE {number} [{word}] {text}")
    assert s.false_positive_rate <= MAX_FALSE_POSITIVES


def test_number_chosen() -> None:
    s = score()
    print(f"\nnumber correct {s.number_correct:.3f}; wrong {len(s.wrong_number)}:")
    for text, expected, given in s.wrong_number:
        print(f"  NUMBER want {expected} got {given} {text}")
    assert s.number_correct >= MIN_NUMBER_CORRECT

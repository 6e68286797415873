"""The matcher's verdicts on every phrasing we have, written down so a faster matcher can be
held to the same answers (tests/test_matcher_verdicts.py reads the file).

Usage: python bench/matcher_snapshot.py [--write]

Without ``--write`` it compares the current matcher with tests/data/matcher_verdicts.json and
prints the questions whose verdict changed. The questions: every text of tests/data/*.yaml
(the phrasings, the blind set, the held-out sets' questions and off-topic ones, the intent
corpus), the knowledge base's own
questions, synonyms, redirect words and names, bench/faq.py's unanswerable mix, and, for
longer and shorter questions than residents' usual ones, a fixed sample of two phrasings
glued together and of phrasings cut in half. Each question's record:
``[answer, redirect, [[candidate, score]…], [[ranked, score]…] (rank's first three),
named_agency]``; ids are entry or redirect ids, scores rounded to ten decimals.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from handlers.inquiries.kb import load_kb  # noqa: E402
from handlers.inquiries.matcher import Matcher, default_matcher  # noqa: E402

SNAPSHOT = ROOT / "tests/data/matcher_verdicts.json"
#: bench/faq.py's questions the base cannot answer (not imported: bench is no package).
UNANSWERABLE = ["村口老槐树能砍吗", "今天天气怎么样", "我家狗丢了", "哪里能修电动车", "你是谁"]
#: Edge cases: nothing left after normalising, Latin only, digits, a lone word.
ODD = ["", "？？？", "asdf", "ok thanks", "110", "12345", "啊", "户", "证", "身份证身份证身份证"]
GLUED = 200
HALVED = 200
RANKED = 3
#: Scores are kept to this many decimals (the file stays small; the test allows for it).
DECIMALS = 10


def _texts(node: Any) -> Iterator[str]:
    """Every question-like string in a YAML tree: ``text`` and ``q`` values, plain strings
    in lists (faq_phrasings.yaml, non_emergency); not labels, ids (``also``) or numbers."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("text", "q") and isinstance(value, str):
                yield value
            elif key != "also" and isinstance(value, dict | list):
                yield from _texts(value)
    elif isinstance(node, list):
        for item in node:
            if isinstance(item, str):
                yield item
            else:
                yield from _texts(item)


def questions() -> list[str]:
    """The questions, deduplicated, in a fixed order."""
    found: list[str] = []
    for path in sorted((ROOT / "tests/data").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if path.name.startswith("holdout") and isinstance(data, dict):
            data = [data.get("questions"), data.get("offtopic")]  # what a resident asks
        if path.name != "emergency_phrasings.yaml":  # alarms, never asked of the base
            found += _texts(data)
    kb = load_kb()
    for entry in kb.entries:
        found += [*entry.questions, *entry.synonyms]
    for redirect in kb.redirects:
        found += [*redirect.words, *redirect.names]
    found += UNANSWERABLE + ODD
    base = list(dict.fromkeys(found))
    rng = random.Random(20261125)
    found += [f"{rng.choice(base)}，{rng.choice(base)}" for _ in range(GLUED)]
    found += [text[: len(text) // 2] for text in rng.sample(base, HALVED)]
    return list(dict.fromkeys(found))


def record(matcher: Matcher, question: str) -> list[Any]:
    verdict = matcher.match(question)
    named = matcher.named_agency(question)
    return [
        verdict.answer and verdict.answer.id,
        verdict.redirect and verdict.redirect.id,
        [[m.entry.id, round(m.score, DECIMALS)] for m in verdict.candidates],
        [[m.entry.id, round(m.score, DECIMALS)] for m in matcher.rank(question)[:RANKED]],
        named and named.id,
    ]


def dump(records: dict[str, list[Any]]) -> str:
    """One question a line, so that a changed verdict is a one-line diff."""
    lines = [json.dumps(q, ensure_ascii=False) + ": " + json.dumps(r) for q, r in records.items()]
    return "{\n" + ",\n".join(lines) + "\n}\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", action="store_true", help="record the current verdicts")
    args = parser.parse_args()
    matcher = default_matcher()
    records = {q: record(matcher, q) for q in questions()}
    if args.write:
        SNAPSHOT.write_text(dump(records), encoding="utf-8")
        print(f"{len(records)} questions written to {SNAPSHOT.relative_to(ROOT)}")
        return
    recorded = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    changed = [q for q, r in recorded.items() if record(matcher, q) != r]
    for q in changed:
        print(f"{q!r}\n  was {recorded[q]}\n  now {record(matcher, q)}")
    print(f"{len(changed)} of {len(recorded)} verdicts changed")
    sys.exit(1 if changed else 0)


if __name__ == "__main__":
    main()

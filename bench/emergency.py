"""Emergency detection speed: the real rule against plain substring checks, same run.

Usage: python bench/emergency.py [--rounds 200]

Runs every message of the blind corpus ``tests/data/intent_corpus.yaml`` (all sections) through
(a) ``TipRules.emergency``, (b) ``text.find("救命")``, the cheapest detector there is, and
(c) a naive detector: ``str.find`` for every plain word of the emergency groups, in a loop.
Prints microseconds per message for each and the ratios a/b and a/c, measured in the same
run so the machine's speed cancels out. Then the same for long messages: ordinary texts
glued into 1000 characters, the longest description a tip may have (the slow case: nothing
matches, so every group is tried over the whole text). The rule runs on every message in
every step, so it must stay far below 100 µs.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from handlers.tips.rules import RULES_FILE, load_rules  # noqa: E402

CORPUS = ROOT / "tests/data/intent_corpus.yaml"


def texts() -> tuple[list[str], list[str]]:
    """(every message of the corpus, the ordinary ones)."""
    corpus = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))
    every = [case["text"] for cases in corpus.values() for case in cases]
    return every, [case["text"] for case in corpus["ordinary"]]


def plain_words() -> list[str]:
    """Every literal word of the emergency groups (no "…" gaps), for the naive detector."""
    section = yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))["emergency"]
    found = {
        str(w)
        for group in section["groups"]
        for key in ("words", "first", "then")
        for w in group.get(key) or []
        if "…" not in str(w)
    }
    return sorted(found)


def long_texts(calm: list[str], n: int = 20, size: int = 1000) -> list[str]:
    """Calm texts glued together: a non-emergency is the slow case (every group is tried)."""
    return [" ".join(calm[i:] + calm[:i])[:size] for i in range(0, len(calm), len(calm) // n)]


def per_message_us(detect: Callable[[str], object], batch: list[str], rounds: int) -> float:
    """Best of ``rounds`` passes (the least disturbed one), per message."""
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for text in batch:
            detect(text)
        best = min(best, time.perf_counter() - started)
    return best / len(batch) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    every, calm = texts()
    rules = load_rules()  # reading the YAML is start-up cost, not per message
    vocabulary = plain_words()

    def one_find(text: str) -> bool:
        return text.find("救命") >= 0

    def every_find(text: str) -> bool:
        for word in vocabulary:  # noqa: SIM110 - a plain loop is the fastest naive way
            if text.find(word) >= 0:
                return True
        return False

    print(f"naive detector: {len(vocabulary)} words")
    for name, batch in (("blind corpus", every), ("1000 chars", long_texts(calm))):
        a = per_message_us(rules.emergency, batch, args.rounds)
        b = per_message_us(one_find, batch, args.rounds)
        c = per_message_us(every_find, batch, args.rounds)
        print(f"{name}: {len(batch)} messages x {args.rounds} rounds")
        print(f"  (a) TipRules.emergency        {a:8.3f} µs/message")
        print(f"  (b) one str.find              {b:8.3f} µs/message   a/b {a / b:6.1f}")
        print(f"  (c) str.find of every word    {c:8.3f} µs/message   a/c {a / c:6.2f}")


if __name__ == "__main__":
    main()

"""Emergency detection speed: the real rule against a single substring check, same run.

Usage: python bench/emergency.py [--rounds 200]

Runs every text of ``tests/data/emergency_phrasings.yaml`` through (a) ``TipRules.emergency``
and (b) ``"救命" in text`` (the cheapest possible detector), ``rounds`` times each, and
prints microseconds per message for both and the ratio a/b. Then the same for long
messages: corpus texts glued into 1000 characters, the longest description a tip may have.
The rule runs on every message in every step, so it must stay far below 0.1 ms.
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
from handlers.tips.rules import load_rules  # noqa: E402

CORPUS = ROOT / "tests/data/emergency_phrasings.yaml"


def texts() -> tuple[list[str], list[str]]:
    """(emergencies, non-emergencies) of the corpus."""
    corpus = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))
    return [c["text"] for c in corpus["emergency"]], list(corpus["non_emergency"])


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
    urgent, calm = texts()
    batch = urgent + calm
    rules = load_rules()  # reading the YAML is start-up cost, not per message

    def baseline(text: str) -> bool:
        return "救命" in text

    long = long_texts(calm)
    for name, texts_ in (("corpus", batch), ("1000 chars", long)):
        a = per_message_us(rules.emergency, texts_, args.rounds)
        b = per_message_us(baseline, texts_, args.rounds)
        print(f"{name}: {len(texts_)} messages x {args.rounds} rounds")
        print(f"  (a) TipRules.emergency   {a:8.3f} µs/message")
        print(f"  (b) one `in` check       {b:8.3f} µs/message")
        print(f"  ratio a/b                {a / b:8.1f}")


if __name__ == "__main__":
    main()

"""Intent reading speed: the real reader against a single substring check, same run.

Usage: python bench/intents.py [--rounds 200]

Runs every text of ``tests/data/intent_corpus.yaml`` (all sections) through (a)
``IntentRules.read`` and (b) ``"举报" in text``, ``rounds`` times each, and prints
microseconds per message for both, the ratio a/b, and CPU time per message (process time,
steadier than wall time). Then the same for messages of 1000 characters, the longest
description a tip may have. The reader runs on free text outside a dialog: it must stay far
below a millisecond (the whole hot path's budget is about half a millisecond).
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
from handlers.intents.reader import load_intents  # noqa: E402

CORPUS = ROOT / "tests/data/intent_corpus.yaml"


def texts() -> list[str]:
    corpus = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))
    return [case["text"] for section in corpus.values() for case in section]


def timed(read: Callable[[str], object], batch: list[str], rounds: int) -> tuple[float, float]:
    """(best wall µs per message, CPU µs per message over all rounds)."""
    best = float("inf")
    cpu_start = time.process_time()
    for _ in range(rounds):
        started = time.perf_counter()
        for text in batch:
            read(text)
        best = min(best, time.perf_counter() - started)
    cpu = time.process_time() - cpu_start
    return best / len(batch) * 1e6, cpu / (len(batch) * rounds) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    batch = texts()
    longest = [" ".join(batch[i:] + batch[:i])[:1000] for i in range(0, len(batch), 40)]
    rules = load_intents()  # reading the YAML is start-up cost, not per message

    def baseline(text: str) -> bool:
        return "举报" in text

    for name, messages, rounds in (
        (f"corpus ({len(batch)} messages)", batch, args.rounds),
        (f"1000 characters ({len(longest)} messages)", longest, max(1, args.rounds // 10)),
    ):
        real, real_cpu = timed(rules.read, messages, rounds)
        base, _ = timed(baseline, messages, rounds)
        print(
            f"{name}: reader {real:.1f} µs/message (CPU {real_cpu:.1f} µs), "
            f"substring {base:.2f} µs, ratio {real / base:.0f}×"
        )


if __name__ == "__main__":
    main()

"""Knowledge-base matching speed: the real matcher against an exact-match baseline, same run.

Usage: python bench/faq.py [--questions 1000]

Draws a fixed mix of questions (the test phrasings, the blind evaluation set
tests/data/kb_eval.yaml, the entries' own questions, and questions the base cannot answer),
answers each with (a) the matcher (normalising, homophone speller, IDF coverage over jieba
words, characters and pairs, rapidfuzz, redirects and facets) and (b) a dictionary lookup of
the exact normalised question, and prints µs per question and p50/p99 latency for both, the
ratio a/b (both measured in the same run), and how often (a) found the entry the phrasing
was written for.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from handlers.inquiries.kb import load_kb  # noqa: E402
from handlers.inquiries.matcher import default_matcher, normalise  # noqa: E402

UNANSWERABLE = ["村口老槐树能砍吗", "今天天气怎么样", "我家狗丢了", "哪里能修电动车", "你是谁"]


def questions(n: int) -> list[tuple[str, str | None]]:
    kb = load_kb()
    phrasings = yaml.safe_load((ROOT / "tests/data/faq_phrasings.yaml").read_text("utf-8"))
    pool: list[tuple[str, str | None]] = [(t, i) for i, ts in phrasings.items() for t in ts]
    pool += [(q, e.id) for e in kb.entries for q in e.questions]
    blind = yaml.safe_load((ROOT / "tests/data/kb_eval.yaml").read_text("utf-8"))
    pool += [(i["q"], None if i["expect"] == "offtopic" else i["expect"]) for i in blind]
    pool += [(q, None) for q in UNANSWERABLE]
    rng = random.Random(20261124)
    return [rng.choice(pool) for _ in range(n)]


def timed(answer: Callable[[str], object], batch: list[tuple[str, str | None]]) -> list[float]:
    # Loading jieba's dictionary leaves some 200,000 objects for the first full garbage
    # collection (about 40 ms): collected now, it is not charged to whichever run comes first.
    gc.collect()
    latencies = []
    for text, _expected in batch:
        started = time.perf_counter()
        answer(text)
        latencies.append(time.perf_counter() - started)
    return latencies


def report(name: str, latencies: list[float]) -> float:
    """Prints and returns the mean µs per question."""
    ordered = sorted(latencies)
    mean = sum(latencies) / len(latencies) * 1e6
    p99 = ordered[int(len(ordered) * 0.99) - 1]
    print(
        f"{name:24} {mean:10.1f} µs/question  p50 {statistics.median(ordered) * 1e6:8.1f} µs"
        f"  p99 {p99 * 1e6:8.1f} µs"
    )
    return mean


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--questions", type=int, default=1000)
    args = parser.parse_args()
    batch = questions(args.questions)
    matcher = default_matcher()  # loads jieba's dictionary: not part of the timing
    exact = {normalise(q): e.id for e in load_kb().entries for q in (*e.questions, *e.synonyms)}
    matcher.match(batch[0][0])

    a = report("(a) matcher", timed(matcher.match, batch))
    b = report("(b) exact dict lookup", timed(lambda t: exact.get(normalise(t)), batch))
    print(f"ratio a/b                {a / b:10.1f}× slower than the exact lookup")
    answerable = [(t, i) for t, i in batch if i is not None]
    found = sum(1 for t, i in answerable if matcher.rank(t)[0].entry.id == i)
    exact_found = sum(1 for t, i in answerable if exact.get(normalise(t)) == i)
    total = len(answerable)
    print(f"top-1 correct            (a) {found}/{total}  (b) {exact_found}/{total}")


if __name__ == "__main__":
    main()

"""The two scores ``matcher`` blends, built once from the targets' phrases.

Both are looked up from the question's side: an inverted index (term → the targets that
contain it) finds the few targets a question can score on, so a question costs what its own
terms cost rather than a pass over the whole base. A target sharing no character with the
question scores exactly 0 on both.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Collection, Iterable

from rapidfuzz import fuzz, process

from handlers.inquiries.normalise import ATTRIBUTE_WEIGHT, ATTRIBUTE_WORDS

__all__ = ["SLACK", "UNKNOWN", "Phrases", "Terms"]

#: The weight of a question word no entry contains, as if it were this rare (IDF).
UNKNOWN = 3.0
#: Allowance for floating-point rounding when a bound decides what need not be scored.
SLACK = 1e-9


class Terms:
    """One view of the targets' phrases (words, characters or pairs): IDF weights, and for
    each term the targets that contain it."""

    def __init__(self, per_target: Iterable[list[Iterable[str]]]) -> None:
        docs = [frozenset[str]().union(*terms) for terms in per_target]
        df = Counter(t for doc in docs for t in doc)
        n = len(docs)
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
        for term in self.idf:  # words, characters and pairs of 多少钱, 多久, 材料…
            if any(term in word for word in ATTRIBUTE_WORDS):
                self.idf[term] *= ATTRIBUTE_WEIGHT
        postings: dict[str, list[int]] = {}
        for i, doc in enumerate(docs):
            for term in doc:
                postings.setdefault(term, []).append(i)
        self.postings = {term: tuple(targets) for term, targets in postings.items()}
        self._found = {term: (self.idf[term], targets) for term, targets in self.postings.items()}

    def add_coverage(self, terms: Collection[str], weight: float, into: list[float]) -> None:
        """Adds ``weight`` times each target's coverage to ``into[target]``: the IDF-weighted
        share of the known ``terms`` (distinct) it contains, times the square root of the
        known share, so that words no target knows lower every score, gently. Targets
        containing none of the terms gain nothing."""
        index = self._found
        found = [index[t] for t in terms if t in index]
        if not found:
            return
        known = sum(idf for idf, _ in found)
        unknown = len(terms) - len(found)
        # weight · (Σ idf / known) · share, one product per term instead of per target.
        factor = weight * math.sqrt(known / (known + UNKNOWN * unknown)) / known
        for idf, targets in found:
            gain = idf * factor
            for i in targets:
                into[i] += gain


class Phrases:
    """The targets' phrases for whole-text similarity (rapidfuzz) and exact lookup."""

    def __init__(self, per_target: list[list[str]]) -> None:
        self.per_target = [tuple(phrases) for phrases in per_target]
        targets: dict[str, list[int]] = {}
        by_char: dict[str, list[int]] = {}
        for i, phrases in enumerate(self.per_target):
            for phrase in phrases:
                targets.setdefault(phrase, []).append(i)
            for char in set("".join(phrases)):
                by_char.setdefault(char, []).append(i)
        #: phrase → the targets that have it (a phrase may repeat within and across targets)
        self.exact = {phrase: frozenset(found) for phrase, found in targets.items()}
        #: character → an integer with a 32-bit lane per target, 1 where the target has it
        self._masks = {c: sum(1 << (32 * i) for i in found) for c, found in by_char.items()}

    def shared(self, query: str) -> list[int]:
        """Per target, how many of the query's characters (repeats counted) occur in its
        phrases; a target sharing none has similarity 0.

        The similarity is a ratio 2·LCS / (len(query) + len(phrase)); a common subsequence
        only uses shared characters, so LCS ≤ min(shared, len(phrase)), and the ratio is at
        most 2·shared / (len(query) + shared) whatever the phrase's length: its ceiling.
        """
        # Each character's mask has a 1 in the lane of every target that has it: one sum of
        # a few big integers counts for every target at once.
        masks = self._masks
        total = sum([masks[c] for c in query if c in masks])
        return memoryview(total.to_bytes(4 * len(self.per_target), "little")).cast("I").tolist()

    def similarity(self, query: str, i: int, cutoff: float = 0.0) -> float:
        """The best rapidfuzz ratio of the query to one of target ``i``'s phrases, 0 to 1;
        0 when it is below ``cutoff`` (rapidfuzz then gives up early)."""
        best = process.extractOne(  # loops in C
            query, self.per_target[i], scorer=fuzz.ratio, score_cutoff=max(cutoff * 100, 0.0)
        )
        return 0.0 if best is None else best[1] / 100

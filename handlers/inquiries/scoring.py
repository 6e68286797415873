"""The two scores ``matcher`` blends, built once from the targets' phrases.

Both are looked up from the question's side: an inverted index (term → the targets that
contain it) finds the few targets a question can score on, so a question costs what its own
terms cost rather than a pass over the whole base. A target sharing no character with the
question scores exactly 0 on both.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from itertools import chain

from rapidfuzz import fuzz, process

from handlers.inquiries.normalise import ATTRIBUTE_WEIGHT, ATTRIBUTE_WORDS

__all__ = ["UNKNOWN", "Phrases", "Terms", "ceiling"]

#: The weight of a question word no entry contains, as if it were this rare (IDF).
UNKNOWN = 3.0
#: Added to a similarity ceiling to cover the last bit of floating-point rounding.
SLACK = 1e-9


class Terms:
    """One view of the targets' phrases (words, characters or pairs): IDF weights, and for
    each term the targets that contain it."""

    def __init__(self, per_target: Iterable[list[set[str]]]) -> None:
        docs = [frozenset().union(*terms) for terms in per_target]
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

    def coverage(self, terms: set[str]) -> dict[int, float]:
        """Target → the IDF-weighted share of the known ``terms`` it contains, times the square
        root of the known share: words no target knows lower every score, gently. Targets
        containing none of the terms are left out (their coverage is 0)."""
        known = sum(self.idf[t] for t in terms if t in self.idf)
        if not known:
            return {}
        unknown = UNKNOWN * sum(1 for t in terms if t not in self.idf)
        share = math.sqrt(known / (known + unknown))
        found: dict[int, float] = {}
        # Terms in the set's own order, as the per-target sums used to add them: same floats.
        for term in terms:
            targets = self.postings.get(term)
            if targets is not None:
                weight = self.idf[term]
                for i in targets:
                    found[i] = found.get(i, 0) + weight
        return {i: f / known * share for i, f in found.items()}


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
        self._by_char = {char: tuple(found) for char, found in by_char.items()}

    def shared(self, query: str) -> Counter[int]:
        """Target → how many of the query's characters (repeats counted) occur in its phrases.
        Targets sharing none are left out: their similarity is 0."""
        return Counter(chain.from_iterable(self._by_char.get(char, ()) for char in query))

    def similarity(self, query: str, i: int) -> float:
        """The best rapidfuzz ratio of the query to one of target ``i``'s phrases, 0 to 1."""
        best = process.extractOne(query, self.per_target[i], scorer=fuzz.ratio)  # loops in C
        return (0.0 if best is None else best[1]) / 100


def ceiling(size: int, shared: int) -> float:
    """At least ``Phrases.similarity`` for a target sharing ``shared`` of the characters of a
    query ``size`` long.

    The ratio is 2·LCS / (len(query) + len(phrase)); a common subsequence only uses shared
    characters, so LCS ≤ min(shared, len(phrase)), and the ratio is at most
    2·shared / (len(query) + shared) whatever the phrase's length.
    """
    return 2 * shared / (size + shared) + SLACK

"""Matching a resident's question to the knowledge base.

A question is normalised (``normalise``: simplified characters, typos, dialect, fillers) and
its homophone typos fixed against the base's own words; then every entry and every redirect
is scored two ways and the scores blended:
- coverage: the share of the question's words (jieba), characters and character pairs,
  each weighted by rarity (IDF), that the entry's questions and synonyms contain. A
  question's rare intent word (国庆, 手机上) thus weighs more than the topic word many
  entries share (身份证), and words no entry knows lower every entry's score, so off-topic
  questions stay unanswered; characters and pairs survive segmentation that went wrong;
- rapidfuzz similarity of the whole question to each question and synonym (short
  questions such as 落户, 暂住证).
A redirect (not police business) that comes first, or close behind an uncertain first, wins:
the resident is sent to the right agency rather than offered unrelated entries.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache

import jieba
from rapidfuzz import fuzz

from handlers.inquiries.kb import Entry, KnowledgeBase, Redirect
from handlers.inquiries.normalise import (
    ATTRIBUTE_WEIGHT,
    ATTRIBUTE_WORDS,
    Speller,
    normalise,
    tokens,
)

__all__ = ["CANDIDATE", "CONFIDENT", "Match", "Matcher", "Verdict", "default_matcher", "normalise"]

jieba.setLogLevel(logging.WARNING)

#: A confident answer scores at least CONFIDENT, MARGIN more than the next entry and RATIO
#: times it; choices score at least CANDIDATE.
CONFIDENT = 0.3
MARGIN = 0.04
RATIO = 1.1
CANDIDATE = 0.22
#: The weight of a question word no entry contains, as if it were this rare (IDF).
UNKNOWN = 3.0
#: What an entry gains when the question has a word of one of its facets (国庆, 网上).
FACET_BONUS = 0.08
#: Blend: word coverage, character coverage, character-pair coverage, whole-text similarity.
WEIGHTS = (0.3, 0.2, 0.2, 0.3)
#: A question naming these is for the police, even if it names another agency too.
POLICE_NAMES = ("派出所", "公安", "民警", "警察", "报警", "110")
#: Characters too common to tell entries apart (particles, pronouns, 办).
COMMON_CHARS = frozenset(
    "的了吗呢啊吧么我你他她是在有和要去想能会可以怎么样如何什么哪里办个还就都也给到把被让"
    "得先这那们多少请"
)


@dataclass(frozen=True)
class Match:
    entry: Entry | Redirect
    score: float


@dataclass(frozen=True)
class Verdict:
    """``answer`` when one entry is clearly meant; ``redirect`` when it is another agency's
    business; else up to three ``candidates`` (entries only)."""

    answer: Entry | None
    candidates: tuple[Match, ...]
    redirect: Redirect | None = field(default=None)


class Matcher:
    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.targets: tuple[Entry | Redirect, ...] = (*kb.entries, *kb.redirects)
        phrases = [[p for p in map(normalise, _phrases(t)) if p] for t in self.targets]
        self.speller = Speller(t for ps in phrases for p in ps for t in tokens(p))
        self._phrases = [[self.speller.correct(p) for p in ps] for ps in phrases]
        self._views = [
            _Index([set(tokens(p)) for p in ps] for ps in self._phrases),
            _Index([_chars(p) for p in ps] for ps in self._phrases),
            _Index([_pairs(p) for p in ps] for ps in self._phrases),
        ]

    def normalise(self, question: str) -> str:
        return self.speller.correct(normalise(question))

    def _similarity(self, query: str, i: int) -> float:
        return max((fuzz.ratio(query, p) for p in self._phrases[i]), default=0.0) / 100

    def rank(self, question: str) -> list[Match]:
        query = self.normalise(question)
        if not query:
            return []
        terms = (set(tokens(query)), _chars(query), _pairs(query))
        views = list(zip(self._views, terms, strict=True))
        w_words, w_chars, w_pairs, w_whole = WEIGHTS
        boosted = {
            entry_id
            for facet in self.kb.facets
            if any(word in query for word in facet.words)
            for entry_id in facet.entries
        }
        scored = []
        for i, target in enumerate(self.targets):
            words, chars, pairs = (index.coverage(terms, i) for index, terms in views)
            score = w_words * words + w_chars * chars + w_pairs * pairs
            score += w_whole * self._similarity(query, i)
            scored.append(Match(target, score + FACET_BONUS * (target.id in boosted)))
        scored.sort(key=lambda m: m.score, reverse=True)
        return scored

    def named_agency(self, question: str) -> Redirect | None:
        """The redirect whose agency the question names, unless it names the police too."""
        query = self.normalise(question)
        if any(word in query for word in POLICE_NAMES):
            return None
        return next((r for r in self.kb.redirects if any(n in query for n in r.names)), None)

    def match(self, question: str) -> Verdict:
        named = self.named_agency(question)
        if named is not None:
            return Verdict(None, (), named)
        query = self.normalise(question)
        exact = {i for i, phrases in enumerate(self._phrases) if query in phrases}
        if len(exact) == 1:  # the resident typed one entry's question or synonym
            target = self.targets[exact.pop()]
            if isinstance(target, Redirect):
                return Verdict(None, (), target)
            return Verdict(target, (Match(target, 1.0),))
        ranked = self.rank(question)
        if not ranked or ranked[0].score < CANDIDATE:
            return Verdict(None, ())
        top = ranked[0]
        if isinstance(top.entry, Redirect):
            return Verdict(None, (), top.entry)
        entries = [m for m in ranked if isinstance(m.entry, Entry)]
        second = entries[1].score if len(entries) > 1 else 0.0
        if top.score >= CONFIDENT and top.score - second >= MARGIN and top.score >= RATIO * second:
            return Verdict(top.entry, (top,))
        close = [m for m in ranked[:3] if m.score >= CANDIDATE]
        redirect = next((m.entry for m in close if isinstance(m.entry, Redirect)), None)
        if redirect is not None:
            return Verdict(None, (), redirect)
        return Verdict(None, tuple(m for m in entries[:3] if m.score >= CANDIDATE))


class _Index:
    """One view of the targets' phrases (words, characters or pairs) with its IDF weights."""

    def __init__(self, per_target: Iterable[list[set[str]]]) -> None:
        self.docs = [frozenset().union(*terms) for terms in per_target]
        df = Counter(t for doc in self.docs for t in doc)
        n = len(self.docs)
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
        for term in self.idf:  # words, characters and pairs of 多少钱, 多久, 材料…
            if any(term in word for word in ATTRIBUTE_WORDS):
                self.idf[term] *= ATTRIBUTE_WEIGHT

    def coverage(self, terms: set[str], i: int) -> float:
        """The IDF-weighted share of the known ``terms`` that target ``i`` contains, times the
        square root of the known share: words no target knows lower every score, gently."""
        known = sum(self.idf[t] for t in terms if t in self.idf)
        if not known:
            return 0.0
        unknown = UNKNOWN * sum(1 for t in terms if t not in self.idf)
        doc = self.docs[i]
        found = sum(self.idf[t] for t in terms if t in doc)
        return found / known * math.sqrt(known / (known + unknown))


def _chars(text: str) -> set[str]:
    return {c for c in text if "\u4e00" <= c <= "\u9fff" and c not in COMMON_CHARS}


def _pairs(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


def _phrases(target: Entry | Redirect) -> tuple[str, ...]:
    if isinstance(target, Redirect):
        return target.words
    return (*target.questions, *target.synonyms)


@cache
def default_matcher() -> Matcher:
    from handlers.inquiries.kb import load_kb

    jieba.initialize()
    return Matcher(load_kb())

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

A verdict reads only the best few scores, so ``match`` scores in full (rapidfuzz, the costly
part) only the targets whose ceiling, their score with the similarity at its most, can still
reach them, and tells rapidfuzz the least similarity that could matter; ``rank`` scores every
target. The coverages are added up term by term in the question's order, so that a score is
the same float in every process (a set's order changes with the process's string hashing).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache

import jieba

from handlers.inquiries.kb import Entry, KnowledgeBase, Redirect
from handlers.inquiries.normalise import Speller, normalise, tokens
from handlers.inquiries.scoring import SLACK, Phrases, Terms

__all__ = ["CANDIDATE", "CONFIDENT", "Match", "Matcher", "Verdict", "default_matcher", "normalise"]

jieba.setLogLevel(logging.WARNING)

#: A confident answer scores at least CONFIDENT, MARGIN more than the next entry and RATIO
#: times it; choices score at least CANDIDATE.
CONFIDENT = 0.3
MARGIN = 0.04
RATIO = 1.1
CANDIDATE = 0.22
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
        self._phrases = Phrases([[self.speller.correct(p) for p in ps] for ps in phrases])
        corrected = self._phrases.per_target
        self._views = (
            Terms([set(tokens(p)) for p in ps] for ps in corrected),
            Terms([_chars(p) for p in ps] for ps in corrected),
            Terms([_pairs(p) for p in ps] for ps in corrected),
        )
        self._position = {target.id: i for i, target in enumerate(self.targets)}
        self._is_entry = [isinstance(target, Entry) for target in self.targets]
        # Per facet, one search for any of its words.
        self._facets = [
            (_alternation(f.words), frozenset(self._position[e] for e in f.entries))
            for f in kb.facets
        ]
        # One search tells most questions apart from the few that name an agency.
        self._any_name = _alternation(n for r in kb.redirects for n in r.names)
        # Per target, the subjects its own questions and synonyms name (after normalising).
        self._subjects = kb.subjects
        self._named = [
            frozenset(s for s in kb.subjects if any(s in p for p in ps)) for ps in corrected
        ]

    def normalise(self, question: str) -> str:
        return self.speller.correct(normalise(question))

    def rank(self, question: str) -> list[Match]:
        """Every target, best first, ties in the base's order (tests and diagnostics)."""
        query = self.normalise(question)
        if not query:
            return []
        scored = self._scored(query, complete=True)
        seen = {m.entry.id for m in scored}
        return scored + [Match(t, 0.0) for t in self.targets if t.id not in seen]

    def _scored(self, query: str, *, complete: bool) -> list[Match]:
        """The targets scoring above 0, best first, ties in the base's order: all of them when
        ``complete``, else only those that can change the verdict (see ``_floor``)."""
        boosted = self._boosted(query)
        # Every target's score but the similarity: facet bonus, word, character and pair
        # coverage.
        partial = [0.0] * len(self.targets)
        for i in boosted:
            partial[i] = FACET_BONUS
        w_words, w_chars, w_pairs, w_whole = WEIGHTS
        words, chars, pairs = self._views
        words.add_coverage(dict.fromkeys(tokens(query)), w_words, partial)
        chars.add_coverage(_chars(query), w_chars, partial)
        pairs.add_coverage(_pairs(query), w_pairs, partial)
        # Highest bound first: a target's score with its similarity at its ceiling (see
        # ``Phrases.shared``); once a bound cannot reach the floor, neither can the rest.
        shared = self._phrases.shared(query)
        size = len(query)
        ceiling = [w_whole * (2 * n / (size + n) + SLACK) for n in range(size + 1)]
        bounds = [p + ceiling[n] for p, n in zip(partial, shared, strict=True)]
        similarity = self._phrases.similarity
        is_entry = self._is_entry
        scored: list[tuple[float, int]] = []
        best: list[float] = []  # the best three entry scores so far
        floor = -math.inf if complete else _floor(best)
        hopeful = [i for i, bound in enumerate(bounds) if bound >= floor]
        for i in sorted(hopeful, key=bounds.__getitem__, reverse=True):
            if bounds[i] < floor:
                break
            part = partial[i]
            if not (part or shared[i]):
                continue  # nothing in common, no facet: scores 0
            score = part + w_whole * similarity(query, i, (floor - part) / w_whole - SLACK)
            if score < floor:
                continue  # too little to change the verdict (rapidfuzz gave up early)
            scored.append((-score, i))
            if is_entry[i] and not complete:
                best = sorted([*best, score], reverse=True)[:3]
                floor = _floor(best)
        scored.sort()
        return [Match(self.targets[i], -score) for score, i in scored]

    def _boosted(self, query: str) -> set[int]:
        """The targets of the facets the question has a word of."""
        return {i for said, ids in self._facets if said.search(query) for i in ids}

    def named_agency(self, question: str) -> Redirect | None:
        """The redirect whose agency the question names, unless it names the police too."""
        return self._named_agency(self.normalise(question))

    def _named_agency(self, query: str) -> Redirect | None:
        if self._any_name.search(query) is None or any(w in query for w in POLICE_NAMES):
            return None
        return next((r for r in self.kb.redirects if any(n in query for n in r.names)), None)

    def match(self, question: str) -> Verdict:
        query = self.normalise(question)
        named = self._named_agency(query)
        if named is not None:
            return Verdict(None, (), named)
        exact = self._phrases.exact.get(query, frozenset())
        if len(exact) == 1:  # the resident typed one entry's question or synonym
            target = self.targets[next(iter(exact))]
            if isinstance(target, Redirect):
                return Verdict(None, (), target)
            return Verdict(target, (Match(target, 1.0),))
        ranked = self._scored(query, complete=False) if query else []
        verdict = _verdict(ranked)
        if verdict.answer is not None and not self._about_the_same(query, verdict.answer):
            return _choices(ranked)
        return verdict

    def _about_the_same(self, query: str, entry: Entry) -> bool:
        """The answer names one of the subjects the question names, if it names any (or a
        facet chose it)."""
        i = self._position[entry.id]
        if i in self._boosted(query):
            return True
        asked = [s for s in self._subjects if s in query]
        return not asked or any(s in self._named[i] for s in asked)


def _verdict(ranked: list[Match]) -> Verdict:
    """The verdict on the targets scoring above 0, best first (or on those ``_floor`` keeps:
    the verdict is the same)."""
    if not ranked or ranked[0].score < CANDIDATE:
        return Verdict(None, ())
    top = ranked[0]
    if isinstance(top.entry, Redirect):
        return Verdict(None, (), top.entry)
    entries = [m for m in ranked if isinstance(m.entry, Entry)]
    second = entries[1].score if len(entries) > 1 else 0.0
    if top.score >= CONFIDENT and top.score - second >= MARGIN and top.score >= RATIO * second:
        return Verdict(top.entry, (top,))
    return _choices(ranked)


def _choices(ranked: list[Match]) -> Verdict:
    """No entry clearly meant: a redirect among the close ones, else up to three entries."""
    close = [m for m in ranked[:3] if m.score >= CANDIDATE]
    redirect = next((m.entry for m in close if isinstance(m.entry, Redirect)), None)
    if redirect is not None:
        return Verdict(None, (), redirect)
    entries = [m for m in ranked if isinstance(m.entry, Entry)]
    return Verdict(None, tuple(m for m in entries[:3] if m.score >= CANDIDATE))


def _floor(best: list[float]) -> float:
    """What a target must score to change a verdict, given the best entry scores so far.

    ``_verdict`` reads, from CANDIDATE up, the first three targets and entries (below it
    there is no verdict), and the second entry's score (MARGIN, RATIO), which matters only if
    the first reaches CONFIDENT and the second comes within MARGIN or RATIO of it: above
    CANDIDATE again (tests/test_matcher_verdicts.py checks the constants). So a target below
    CANDIDATE changes nothing, nor does one below the second entry so far and below the
    third.
    """
    if len(best) < 2:
        return CANDIDATE
    third = best[2] if len(best) > 2 else -math.inf
    return max(CANDIDATE, min(best[1], third))


def _alternation(words: Iterable[str]) -> re.Pattern[str]:
    """A pattern matching any of ``words`` (never anything if there are none)."""
    return re.compile("|".join(map(re.escape, sorted(set(words)))) or r"(?!)")


def _chars(text: str) -> dict[str, None]:
    """The question's distinct characters that tell entries apart, in order."""
    return dict.fromkeys(c for c in text if "\u4e00" <= c <= "\u9fff" and c not in COMMON_CHARS)


def _pairs(text: str) -> dict[str, None]:
    """Its distinct pairs of characters, in order."""
    return dict.fromkeys(text[i : i + 2] for i in range(len(text) - 1))


def _phrases(target: Entry | Redirect) -> tuple[str, ...]:
    if isinstance(target, Redirect):
        return target.words
    return (*target.questions, *target.synonyms)


@cache
def default_matcher() -> Matcher:
    from handlers.inquiries.kb import load_kb

    jieba.initialize()
    return Matcher(load_kb())

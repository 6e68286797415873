"""Matching a resident's question to the knowledge base.

Chinese has no spaces, residents type colloquially, with homophone typos and sometimes in
traditional characters. So a question is normalised (OpenCC traditional→simplified, NFKC,
known typos, punctuation and filler removed), then scored against every entry two ways and
the scores blended:
- BM25 over jieba's word segmentation of the entry's questions and synonyms (rare words such
  as 居住证 weigh more than common ones such as 办理);
- rapidfuzz character similarity against each question and synonym (survives typos and
  segmentation that went wrong).
"""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import cache

import jieba
import opencc
from rapidfuzz import fuzz

from handlers.inquiries.kb import Entry, KnowledgeBase

jieba.setLogLevel(logging.WARNING)

# Homophone and look-alike typos residents make; applied after traditional→simplified.
TYPOS = {
    "身分证": "身份证",
    "户囗": "户口",
    "戸口": "户口",
    "身份正": "身份证",
    "居往证": "居住证",
    "暂往": "暂住",
    "户籍证": "户口",
    "户口薄": "户口簿",
    "犯罪纪录": "犯罪记录",
    "过逝": "过世",
    "架驶证": "驾驶证",
    "驾使证": "驾驶证",
    "上斑": "上班",
}
FILLERS = re.compile(
    r"请问|你好|您好|我想问一下|我想问|想问一下|想问|问一下|咨询一下|麻烦|谢谢|一下"
)
PUNCTUATION = re.compile(r"[\s\W_]+", re.UNICODE)
STOPWORDS = frozenset(
    [
        "的",
        "了",
        "吗",
        "呢",
        "啊",
        "吧",
        "呀",
        "么",
        "我",
        "你",
        "他",
        "她",
        "是",
        "在",
        "有",
        "和",
        "要",
        "去",
        "想",
        "能",
        "可以",
        "怎么",
        "怎样",
        "如何",
        "什么",
        "咋",
        "哪",
        "哪里",
        "办",
        "办理",
        "一个",
        "这个",
        "那个",
        "需要",
        "应该",
        "还",
        "就",
        "都",
        "也",
        "给",
        "到",
        "把",
        "被",
        "让",
        "个",
    ]
)

CONFIDENT = 0.62
MARGIN = 0.06
CANDIDATE = 0.38
K1, B = 1.5, 0.75


@cache
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", _t2s().convert(text)).lower()
    for wrong, right in TYPOS.items():
        text = text.replace(wrong, right)
    return PUNCTUATION.sub("", FILLERS.sub("", text))


def tokens(text: str) -> list[str]:
    return [t for t in jieba.lcut_for_search(text) if t.strip() and t not in STOPWORDS]


@dataclass(frozen=True)
class Match:
    entry: Entry
    score: float


@dataclass(frozen=True)
class Verdict:
    """``answer`` when one entry is clearly meant; else up to three ``candidates``."""

    answer: Entry | None
    candidates: tuple[Match, ...]


class Matcher:
    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self._phrases = [
            [normalise(p) for p in (*e.questions, *e.synonyms) if normalise(p)] for e in kb.entries
        ]
        self._docs = [Counter(t for p in phrases for t in tokens(p)) for phrases in self._phrases]
        self._lengths = [sum(doc.values()) for doc in self._docs]
        self._avg = sum(self._lengths) / max(len(self._lengths), 1)
        df = Counter(t for doc in self._docs for t in doc)
        n = len(self._docs)
        self._idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}

    def _bm25(self, query: list[str], i: int) -> float:
        doc, length = self._docs[i], self._lengths[i]
        score = 0.0
        for term in query:
            tf = doc.get(term, 0)
            if tf:
                norm = tf + K1 * (1 - B + B * length / self._avg)
                score += self._idf[term] * tf * (K1 + 1) / norm
        return score

    def _fuzzy(self, query: str, i: int) -> float:
        best = 0.0
        for phrase in self._phrases[i]:
            whole = fuzz.ratio(query, phrase)
            inside = fuzz.partial_ratio(query, phrase) if min(len(phrase), len(query)) >= 2 else 0
            best = max(best, whole, 0.9 * inside)
        return best / 100

    def rank(self, question: str) -> list[Match]:
        query = normalise(question)
        if not query:
            return []
        terms = tokens(query)
        scored = []
        for i, entry in enumerate(self.kb.entries):
            bm25 = self._bm25(terms, i)
            score = 0.55 * self._fuzzy(query, i) + 0.45 * (bm25 / (bm25 + 4.0))
            scored.append(Match(entry, score))
        scored.sort(key=lambda m: m.score, reverse=True)
        return scored

    def match(self, question: str) -> Verdict:
        ranked = self.rank(question)
        if not ranked or ranked[0].score < CANDIDATE:
            return Verdict(None, ())
        top = ranked[0]
        second = ranked[1].score if len(ranked) > 1 else 0.0
        if top.score >= CONFIDENT and top.score - second >= MARGIN:
            return Verdict(top.entry, (top,))
        return Verdict(None, tuple(m for m in ranked[:3] if m.score >= CANDIDATE))


@cache
def default_matcher() -> Matcher:
    from handlers.inquiries.kb import load_kb

    jieba.initialize()
    return Matcher(load_kb())

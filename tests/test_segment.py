"""handlers/inquiries/segment.py cuts exactly as jieba does: every phrasing of the test data
and of the knowledge base, and random strings of the characters they use."""

from __future__ import annotations

import json
import random
from pathlib import Path

import jieba
from jieba import finalseg

from handlers.inquiries.kb import load_kb
from handlers.inquiries.matcher import default_matcher
from handlers.inquiries.segment import _hmm_cut, cut_for_search

DATA = Path(__file__).parent / "data"


def _texts() -> list[str]:
    questions = list(json.loads((DATA / "matcher_verdicts.json").read_text(encoding="utf-8")))
    kb = load_kb()
    phrases = [p for e in kb.entries for p in (*e.questions, *e.synonyms)]
    phrases += [w for r in kb.redirects for w in (*r.words, *r.names)]
    found = [*questions, *phrases]
    matcher = default_matcher()
    found += [matcher.normalise(text) for text in found]  # what the matcher cuts
    return list(dict.fromkeys(found))


def test_the_same_words_as_jieba() -> None:
    texts = _texts()
    rng = random.Random(7)
    alphabet = sorted({c for t in texts for c in t}) + list("ab1 .-%\n")
    texts += ["".join(rng.choices(alphabet, k=rng.randint(1, 30))) for _ in range(3000)]
    differ = [t for t in texts if cut_for_search(t) != jieba.lcut_for_search(t)]
    assert not differ, [(t, cut_for_search(t), jieba.lcut_for_search(t)) for t in differ[:10]]
    assert len(texts) > 5000


def test_the_same_hmm_words_as_jieba() -> None:
    """Runs jieba's dictionary does not know go to its HMM, redone in segment.py: random
    characters from the whole Han block, now and then a letter or a digit."""
    rng = random.Random(11)
    alphabet = [chr(c) for c in range(0x4E00, 0x9FA6)] + list("abZ09")
    runs = ["".join(rng.choices(alphabet, k=rng.randint(1, 12))) for _ in range(5000)]
    differ = [r for r in runs if _hmm_cut(r) != list(finalseg.cut(r))]
    assert not differ, [(r, _hmm_cut(r), list(finalseg.cut(r))) for r in differ[:10]]

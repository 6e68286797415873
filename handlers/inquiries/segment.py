"""jieba's search-engine segmentation, the same words as ``jieba.lcut_for_search``, faster.

The matcher cuts every question it scores, and jieba's cut was its costliest step: jieba
builds a dictionary of lists (the DAG of dictionary words) and walks it again through
generators. ``cut_for_search`` below does the same arithmetic in one backward pass over
plain lists. Runs of characters the dictionary does not know go to jieba's HMM
(``finalseg``), redone here with back pointers instead of a copy of every path at every
step, and its words are kept per run, as runs recur. tests/test_segment.py holds both to
jieba's own output.
"""

from __future__ import annotations

from collections.abc import Iterable
from math import log

import jieba
from jieba import finalseg

__all__ = ["cut", "cut_for_search"]

#: At most this many unknown runs keep their HMM segmentation cached.
RUNS_CACHED = 50_000
_hmm: dict[str, tuple[str, ...]] = {}


def cut_for_search(text: str) -> list[str]:
    """``jieba.lcut_for_search(text)``: each word, preceded by its two- and three-character
    parts that are dictionary words."""
    freq = _dictionary().FREQ
    words: list[str] = []
    for word in cut(text):
        size = len(word)
        if size > 2:
            words += (g for g in (word[i : i + 2] for i in range(size - 1)) if freq.get(g))
        if size > 3:
            words += (g for g in (word[i : i + 3] for i in range(size - 2)) if freq.get(g))
        words.append(word)
    return words


def cut(text: str) -> list[str]:
    """``jieba.lcut(text)`` (accurate mode, HMM on)."""
    words: list[str] = []
    for block in jieba.re_han_default.split(text):
        if not block:
            continue
        if jieba.re_han_default.match(block):
            _cut_block(block, words)
            continue
        for part in jieba.re_skip_default.split(block):
            if jieba.re_skip_default.match(part):
                words.append(part)
            else:
                words += part
    return words


def _dictionary() -> jieba.Tokenizer:
    tokenizer = jieba.dt
    tokenizer.check_initialized()
    return tokenizer


def _cut_block(block: str, words: list[str]) -> None:
    """jieba's ``__cut_DAG``: the most probable route through the dictionary's words, runs of
    single characters jieba does not know as a word handed to the HMM."""
    tokenizer = _dictionary()
    freq = tokenizer.FREQ
    lookup = freq.get
    logtotal = log(tokenizer.total)
    size = len(block)
    # route[k]: (log probability of the best route from k, end of its first word); jieba's
    # ``calc``, with each position's DAG (its dictionary words, and the prefixes of words
    # that the dictionary holds with count 0) found on the way.
    scores = [0.0] * (size + 1)
    ends = [0] * (size + 1)
    for start in range(size - 1, -1, -1):
        best_score, best_end = 0.0, -1
        end = start
        while end < size:
            count = lookup(block[start : end + 1])
            if count is None:
                break
            if count:
                score = log(count) - logtotal + scores[end + 1]
                # max() over (score, end): on a tie the later end wins, as in jieba.
                if best_end < 0 or score >= best_score:
                    best_score, best_end = score, end
            end += 1
        if best_end < 0:  # no dictionary word starts here: the character on its own
            best_score = log(lookup(block[start]) or 1) - logtotal + scores[start + 1]
            best_end = start
        scores[start] = best_score
        ends[start] = best_end
    buffer = ""
    x = 0
    while x < size:
        y = ends[x] + 1
        if y - x == 1:
            buffer += block[x]
        else:
            if buffer:
                _flush(buffer, freq, words)
                buffer = ""
            words.append(block[x:y])
        x = y
    if buffer:
        _flush(buffer, freq, words)


def _flush(buffer: str, freq: dict[str, int], words: list[str]) -> None:
    """Single characters in a row: the HMM's words unless jieba knows the run as a word."""
    if len(buffer) == 1:
        words.append(buffer)
    elif freq.get(buffer):
        words += buffer
    else:
        words += _recognised(buffer)


def _recognised(run: str) -> tuple[str, ...]:
    found = _hmm.get(run)
    if found is None:
        if len(_hmm) >= RUNS_CACHED:
            _hmm.clear()  # a crude bound on memory: rarely, if ever, reached
        found = _hmm[run] = tuple(_hmm_cut(run))
    return found


def _hmm_cut(run: str) -> list[str]:
    """``finalseg.cut(run)``: the HMM's words in each Han stretch, the rest as it is."""
    words: list[str] = []
    if finalseg.re_han.fullmatch(run):  # the usual run: one Han stretch
        return [w for word in _hmm_words(run) for w in _forced(word)]
    for block in finalseg.re_han.split(run):
        if finalseg.re_han.match(block):
            words += (w for word in _hmm_words(block) for w in _forced(word))
        else:
            words += (part for part in finalseg.re_skip.split(block) if part)
    return words


def _forced(word: str) -> Iterable[str]:
    """The word, or its characters if jieba was told to split it (``add_force_split``)."""
    return word if word in finalseg.Force_Split_Words else (word,)


def _hmm_words(text: str) -> list[str]:
    """finalseg's ``__cut``: words from the most probable states, B(egin) M(iddle) E(nd)
    S(ingle)."""
    words: list[str] = []
    begin = after = 0
    for i, state in enumerate(_viterbi(text)):
        if state == "B":
            begin = i
        elif state == "E":
            words.append(text[begin : i + 1])
            after = i + 1
        elif state == "S":
            words.append(text[i])
            after = i + 1
    if after < len(text):
        words.append(text[after:])
    return words


_STATES = "BMES"
#: Per state (by its place in _STATES), the places of the two states that may precede it and
#: the log probabilities of those steps.
_STEPS = tuple(
    (
        _STATES.index(first),
        finalseg.trans_P[first].get(state, finalseg.MIN_FLOAT),
        _STATES.index(second),
        finalseg.trans_P[second].get(state, finalseg.MIN_FLOAT),
        first > second,  # which wins a tie: max() over (probability, state letter)
    )
    for state in _STATES
    for first, second in [finalseg.PrevStatus[state]]
)


def _viterbi(text: str) -> list[str]:
    """finalseg's ``viterbi``, the same sums in the same order, over lists, with back pointers
    instead of a copy of every path at every step."""
    lowest = finalseg.MIN_FLOAT
    emits = [finalseg.emit_P[y] for y in _STATES]
    best = [
        finalseg.start_P[y] + e.get(text[0], lowest) for y, e in zip(_STATES, emits, strict=True)
    ]
    pointers: list[list[int]] = []
    for char in text[1:]:
        current: list[float] = []
        pointer: list[int] = []
        for (first, step_first, second, step_second, first_wins), emit in zip(
            _STEPS, emits, strict=True
        ):
            emitted = emit.get(char, lowest)
            a = best[first] + step_first + emitted
            b = best[second] + step_second + emitted
            if a > b or (a == b and first_wins):
                current.append(a)
                pointer.append(first)
            else:
                current.append(b)
                pointer.append(second)
        pointers.append(pointer)
        best = current
    # max() over (probability, state) of the states a word can end in, E(nd) and S(ingle).
    end, single = _STATES.index("E"), _STATES.index("S")
    state = end if best[end] > best[single] else single  # on a tie "S" > "E" wins
    path = [state]
    for pointer in reversed(pointers):
        state = pointer[state]
        path.append(state)
    return [_STATES[i] for i in reversed(path)]

"""Word lists compiled into one regex shaped like a trie: cheap enough to run on every message.

A flat alternation ``打电话|打印|打针|…`` makes ``re`` try every word at every position where
any word could start. Sharing prefixes (``打(?:电话|印|针)``) tries one branch per character
instead, whatever the length of the list. Words are literal text; "…" inside a word stands for
a short gap of any characters except ``CUT`` (what a removed false friend leaves behind).
Where several words match at one position, the longest wins (the trie prefers going on).

``re`` still tries the first characters one by one: with some 300 of them (every emergency
word) that is most of the cost on a short text, where nearly every Chinese character starts some
word. ``chunked=True`` cuts them into chunks, each behind a lookahead ``(?=[…])``: a position
tries a handful of chunks, then one chunk's characters (twice as fast on a message). A long text
is faster without: behind a lookahead ``re`` no longer skips ahead to the next first character.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

GAP = 6  # "…" inside a word: up to this many characters between its parts
CUT = "_"  # what a removed false friend leaves; gaps do not reach across it
NEVER = re.compile(r"(?!)")
CHUNK = 40  # first characters per lookahead chunk, with chunked=True

Token = str | int  # one character, or a gap of up to that many characters
Word = tuple[Token, ...]
_END = ""  # marks a node where a word ends


def tokens(word: str, gap: int = GAP) -> Word:
    """``"围着…打"`` → ``("围", "着", 6, "打")``."""
    out: list[Token] = []
    for i, part in enumerate(word.split("…")):
        if i and gap:
            out.append(gap)
        out.extend(part)
    return tuple(out)


def pair(first: str, then: str, within: int) -> Word:
    """A word of ``first``, then within ``within`` characters a word of ``then``."""
    return (*tokens(first), *((within,) if within else ()), *tokens(then))


def regex(words: Iterable[Word], *, chunked: bool = False) -> str:
    """The alternation of ``words`` as a trie, or "" for no words."""
    trie: dict[Token, dict] = {}  # type: ignore[type-arg]
    for word in words:
        if word:
            node = trie
            for token in word:
                node = node.setdefault(token, {})
            node[_END] = {}
    if not trie:
        return ""
    return _chunked(trie) if chunked else _node(trie)


def compile_words(words: Iterable[Word], *, chunked: bool = False) -> re.Pattern[str]:
    found = regex(words, chunked=chunked)
    return re.compile(found) if found else NEVER  # an empty pattern would match everything


def _chunked(trie: dict) -> str:  # type: ignore[type-arg]
    """The trie's top: its first characters in chunks, each behind a lookahead of them."""
    if len(trie) <= CHUNK or not all(isinstance(c, str) and c for c in trie):
        return _node(trie)  # few enough, or a word starting with a gap: plain branches
    chars = sorted(c for c in trie if isinstance(c, str))
    chunks = [chars[i : i + CHUNK] for i in range(0, len(chars), CHUNK)]
    # Different first characters never match at one position, so chunking changes no match.
    body = "|".join(_ahead(chunk) + _node({c: trie[c] for c in chunk}) for chunk in chunks)
    return f"{_ahead(chars)}(?:{body})"


def _ahead(chars: list[str]) -> str:
    return "(?=[" + "".join(re.escape(c) for c in chars) + "])"


def _node(node: dict) -> str:  # type: ignore[type-arg]
    chars = sorted(k for k in node if isinstance(k, str) and k != _END)
    gaps = sorted((k for k in node if isinstance(k, int)), reverse=True)
    # Characters first (one of them at most can match here), then gaps, widest first.
    branches = [re.escape(c) + _node(node[c]) for c in chars if list(node[c]) != [_END]]
    leaves = "".join(re.escape(c) for c in chars if list(node[c]) == [_END])
    if leaves:  # characters that only end a word: one class [ab] instead of a|b
        branches.append(leaves if len(leaves) == 1 else f"[{leaves}]")
    branches += [f"[^{CUT}]{{0,{g}}}" + _node(node[g]) for g in gaps]
    body = "|".join(branches)
    if _END in node:
        return f"(?:{body})?" if body else ""
    return body if len(branches) == 1 else f"(?:{body})"

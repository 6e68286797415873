"""Emergency words as data: the ``emergency:`` section of tips.yaml, compiled once.

It runs on every message in every step, so it is a few regex scans over word lists the
station edits. The reading, in order:

1. voice-input typos are put right (着伙 → 着火, 就命 → 救命);
2. false friends are cut out (偷偷 is not 偷, 打电话 is not 打, 火锅 is not 火);
3. the groups are tried top to bottom, and the first that matches gives the number;
   a group with ``later_if`` goes last when one of those words is there (a drowning
   person pulled out, ``捞上来``, is the 120 groups' business);
4. the cue is weighed against the rest of the message: a con (被骗, 手术费) or a joke
   (哈哈) is never an emergency; a cry for help (救命, 快来) always is; a question
   (怎么报警), a story (新闻里), an event that is over (找到了) is not; and an event
   dated in the past (昨天, 上个月) is not, unless a "now" word (刚才, 现在) between
   the date and the cue brings the message back to the present.

Nearly every message is none of this: one scan for any group word or typo says so first.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain
from typing import Any, NamedTuple

from handlers.tips.wordtrie import CUT, GAP, NEVER, Word, compile_words, pair, tokens

NUMBERS = ("110", "119", "120")
SHORT = 200  # characters: up to this length one scan first tells "no word of any group"


@dataclass(frozen=True)
class Emergency:
    number: str  # 110, 119 or 120
    word: str  # the text that matched, for the officers


def words(section: dict[str, Any], name: str) -> tuple[str, ...]:
    return tuple(str(w) for w in section.get(name) or [])


def _listed(section: dict[str, Any], *names: str) -> list[Word]:
    return [tokens(w) for name in names for w in words(section, name)]


@dataclass(frozen=True)
class EmergencyGroup:
    number: str
    what: str
    items: tuple[Word, ...]  # its words and pairs, for the one scan over every group
    pattern: re.Pattern[str]
    later_if: re.Pattern[str] = NEVER

    @classmethod
    def from_entry(cls, g: dict[str, Any]) -> EmergencyGroup:
        number = str(g["number"])
        if number not in NUMBERS:
            msg = f"emergency group {g.get('what')!r}: number must be one of {NUMBERS}"
            raise ValueError(msg)
        items = _listed(g, "words")
        within = int(g.get("within", GAP))
        ways = [(words(g, "first"), words(g, "then"))]
        if g.get("either_order"):
            ways.append(ways[0][::-1])
        items += [pair(a, b, within) for lead, follow in ways for a in lead for b in follow]
        return cls(
            number=number,
            what=str(g.get("what", "")),
            items=tuple(items),
            pattern=compile_words(items),
            later_if=compile_words(_listed(g, "later_if")),
        )


@dataclass(frozen=True)
class EmergencyRules:
    """The ``emergency:`` section of tips.yaml: see the module docstring for the reading."""

    typos: dict[str, str]
    groups: tuple[EmergencyGroup, ...]
    anything: re.Pattern[str]  # any group word or typo: without one, nothing else is read
    typo_words: re.Pattern[str]
    false_friends: re.Pattern[str]
    not_meant: re.Pattern[str]  # a con or a joke: never an emergency
    help: re.Pattern[str]  # a cry for help: always one
    calm: re.Pattern[str]  # asking, a story, an event that is over
    times: re.Pattern[str]  # "past" and "now" words: when the message says it happened
    now_words: frozenset[str]

    def detect(self, text: str) -> Emergency | None:
        # False friends only take away and typos are among ``anything``: no match here is
        # no match after them either (cutting leaves a "_" that no word or gap crosses).
        # A long text nearly always has some word: the scan would only add to its cost.
        if len(text) <= SHORT and self.anything.search(text) is None:
            return None
        plain = self.read(text)
        hits = self._hits(plain)
        first = next(hits, None)
        if first is None or self.not_meant.search(plain):
            return None
        if self.help.search(plain):
            return Emergency(first.number, first.word)
        if self.calm.search(plain):
            return None
        now = self.now_words
        times = [(m.start(), m.group() in now) for m in self.times.finditer(plain)]
        hit: _Hit | None = first
        while hit is not None:  # "上个月被人打过，现在又拿着刀来了": the first hit that is now
            if _now(times, hit.end):
                return Emergency(hit.number, hit.word)
            hit = next(hits, None)
        return None

    def read(self, text: str) -> str:
        """The text the groups see: typos put right, then false friends cut out."""
        text = self.typo_words.sub(self._fix, text)
        return self.false_friends.sub(CUT, text)

    def _fix(self, match: re.Match[str]) -> str:
        return self.typos[match.group()]

    def _hits(self, plain: str) -> Iterator[_Hit]:
        """Every match of every group, groups in order (``later_if`` ones moved last)."""
        later = []
        for group in self.groups:
            found = group.pattern.finditer(plain)
            first = next(found, None)
            if first is None:
                continue
            if group.later_if is not NEVER and group.later_if.search(plain):
                later.append(group)
                continue
            for m in chain((first,), found):
                yield _Hit(group.number, m.group(), m.end())
        for group in later:
            for m in group.pattern.finditer(plain):
                yield _Hit(group.number, m.group(), m.end())

    @classmethod
    def from_section(cls, section: dict[str, Any]) -> EmergencyRules:
        typos = {str(k): str(v) for k, v in (section.get("typos") or {}).items()}
        if any("…" in k for k in typos):
            msg = "emergency typos: a typo is plain text, without …"
            raise ValueError(msg)
        if any("…" in w for w in words(section, "past") + words(section, "now")):
            msg = "emergency past/now: a time word is plain text, without …"
            raise ValueError(msg)
        groups = tuple(EmergencyGroup.from_entry(g) for g in section["groups"])
        typo_words = [tokens(k) for k in typos]
        return cls(
            typos=typos,
            groups=groups,
            anything=compile_words(
                [*typo_words, *(w for g in groups for w in g.items)], chunked=True
            ),
            typo_words=compile_words(typo_words),
            false_friends=compile_words(_listed(section, "false_friends")),
            not_meant=compile_words(_listed(section, "fraud", "jokes")),
            help=compile_words(_listed(section, "help")),
            calm=compile_words(_listed(section, "asking", "stories", "over")),
            # One pattern, not a named group each: re skips ahead by first character only
            # when every branch starts with one (10x faster on a long text).
            times=compile_words(_listed(section, "past", "now")),
            now_words=frozenset(words(section, "now")),
        )


class _Hit(NamedTuple):
    """A group's match and where it ends (the time words before that end date it)."""

    number: str
    word: str
    end: int


def _now(times: list[tuple[int, bool]], end: int) -> bool:
    """Is a cue ending at ``end`` happening now? The nearest time word before it decides;
    with none before, any "now" word does, then any "past" word; with no time word, yes."""
    before = [is_now for start, is_now in times if start < end]
    if before:
        return before[-1]
    return any(is_now for _, is_now in times) or not times

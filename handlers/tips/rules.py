"""The tip rules as data (``tips.yaml``): categories, emergency words, triage, limits."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

RULES_FILE = Path(__file__).resolve().parent / "tips.yaml"
LEVELS = ("blue", "yellow", "red")
LEVEL_NAMES = {"blue": "蓝色", "yellow": "黄色", "red": "红色"}


@dataclass(frozen=True)
class Category:
    key: str
    name: str
    level: str


@dataclass(frozen=True)
class Emergency:
    number: str  # 110, 119 or 120
    word: str  # the text that matched, for the officers


GAP = 6  # "…" inside an emergency word: up to this many characters between its parts
CUT = "_"  # what a removed false friend leaves; pairs and "…" do not reach across it
NEVER = re.compile(r"(?!)")


def _pattern(words: Iterable[str]) -> str:
    """One alternation of literal words, longest first; "…" becomes a short gap."""
    between = f"[^{CUT}]{{0,{GAP}}}"
    alternatives = sorted({w for w in words if w}, key=len, reverse=True)
    return "|".join(between.join(map(re.escape, w.split("…"))) for w in alternatives)


def _compile(*alternatives: str) -> re.Pattern[str]:
    joined = "|".join(a for a in alternatives if a)
    return re.compile(joined) if joined else NEVER  # an empty pattern would match everything


@dataclass(frozen=True)
class EmergencyGroup:
    number: str
    what: str
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class EmergencyRules:
    """The ``emergency:`` section of tips.yaml, compiled once: a handful of regex searches."""

    groups: tuple[EmergencyGroup, ...]
    false_friends: re.Pattern[str]
    calm: re.Pattern[str]  # asking what to do, an event that is over, a story
    now: re.Pattern[str]

    def detect(self, text: str) -> Emergency | None:
        # False friends go first so that 偷偷, 发烧, 打电话 cannot match 偷, 烧, 打.
        plain = self.false_friends.sub(CUT, text)
        for group in self.groups:  # strongest first: the first match gives the number
            match = group.pattern.search(plain)
            if match is not None:
                break
        else:
            return None
        # "被打了怎么报警", "去年着过火": a cue, but nothing to rush to unless it is still on.
        if self.calm.search(plain) and not self.now.search(plain):
            return None
        return Emergency(group.number, match.group())

    @classmethod
    def from_section(cls, section: dict[str, Any]) -> EmergencyRules:
        groups = []
        for g in section["groups"]:
            number = str(g["number"])
            if number not in ("110", "119", "120"):
                msg = f"emergency group {g.get('what')!r}: number must be 110, 119 or 120"
                raise ValueError(msg)
            pairs = []
            if g.get("first") and g.get("then"):
                gap = f"[^{CUT}]{{0,{int(g.get('within', GAP))}}}"
                ways = [(_words(g, "first"), _words(g, "then"))]
                if g.get("either_order"):
                    ways.append(ways[0][::-1])
                # One branch per leading word: when every branch starts with a literal, re
                # skips positions by their first character (5x faster on long texts).
                for lead, follow in ways:
                    pairs += [f"{_pattern([w])}{gap}(?:{_pattern(follow)})" for w in lead]
            pattern = _compile(_pattern(_words(g, "words")), *pairs)
            groups.append(EmergencyGroup(number, str(g.get("what", "")), pattern))
        return cls(
            groups=tuple(groups),
            false_friends=_compile(_pattern(_words(section, "false_friends"))),
            calm=_compile(*(_pattern(_words(section, k)) for k in ("asking", "past", "stories"))),
            now=_compile(_pattern(_words(section, "now"))),
        )


@dataclass(frozen=True)
class TipRules:
    categories: tuple[Category, ...]
    emergencies: EmergencyRules
    money_words: tuple[str, ...]
    red_words: tuple[str, ...]
    yellow_words: tuple[str, ...]
    repeat_window_days: int
    repeat_threshold: int
    tips_per_day: int
    photos_per_tip: int
    description_max_chars: int

    def category(self, key: str) -> Category | None:
        return next((c for c in self.categories if c.key == key), None)

    def choose(self, answer: str) -> Category | None:
        """A category by its number or its name."""
        answer = answer.strip()
        if answer.isdigit() and 1 <= int(answer) <= len(self.categories):
            return self.categories[int(answer) - 1]
        return next((c for c in self.categories if c.name == answer), None)

    def emergency(self, text: str) -> Emergency | None:
        return self.emergencies.detect(text)

    def money_moved(self, text: str) -> bool:
        return any(w in text for w in self.money_words)

    def level_for(self, category: Category, text: str, *, repeats: int, fraud_lane: bool) -> str:
        """三色预警 from the rules; never lower than the category's own level."""
        level = LEVELS.index(category.level)
        if any(w in text for w in self.yellow_words):
            level = max(level, 1)
        if repeats + 1 >= self.repeat_threshold:
            level = min(level + 1, 2)
        if fraud_lane or any(w in text for w in self.red_words):
            level = 2
        return LEVELS[level]


def _words(section: dict[str, Any], name: str) -> tuple[str, ...]:
    return tuple(str(w) for w in section.get(name, []))


@cache
def load_rules(path: Path = RULES_FILE) -> TipRules:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    categories = tuple(Category(**c) for c in raw["categories"])
    if not categories or any(c.level not in LEVELS for c in categories):
        msg = f"{path}: every category needs a level of {LEVELS}"
        raise ValueError(msg)
    emergency, triage, limits = raw["emergency"], raw["triage"], raw["limits"]
    return TipRules(
        categories=categories,
        emergencies=EmergencyRules.from_section(emergency),
        money_words=_words(raw["fraud"], "money_words"),
        red_words=_words(triage, "red_words"),
        yellow_words=_words(triage, "yellow_words"),
        repeat_window_days=int(triage["repeat_window_days"]),
        repeat_threshold=int(triage["repeat_threshold"]),
        tips_per_day=int(limits["tips_per_day"]),
        photos_per_tip=int(limits["photos_per_tip"]),
        description_max_chars=int(limits["description_max_chars"]),
    )

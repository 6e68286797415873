"""The tip rules as data (``tips.yaml``): categories, emergency words, triage, limits."""

from __future__ import annotations

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
    word: str


@dataclass(frozen=True)
class TipRules:
    categories: tuple[Category, ...]
    emergency_words: tuple[str, ...]
    in_progress: tuple[str, ...]
    actions: tuple[str, ...]
    fire_words: tuple[str, ...]
    medical_words: tuple[str, ...]
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
        word = next((w for w in self.emergency_words if w in text), None)
        if word is None:
            marker = next((m for m in self.in_progress if m in text), None)
            action = next((a for a in self.actions if a in text), None)
            if marker is None or action is None:
                return None
            word = marker + "…" + action
        if any(w in text for w in self.medical_words):
            return Emergency("120", word)
        if any(w in text for w in self.fire_words):
            return Emergency("119", word)
        return Emergency("110", word)

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
        emergency_words=_words(emergency, "words"),
        in_progress=_words(emergency, "in_progress"),
        actions=_words(emergency, "actions"),
        fire_words=_words(emergency, "fire_words"),
        medical_words=_words(emergency, "medical_words"),
        money_words=_words(raw["fraud"], "money_words"),
        red_words=_words(triage, "red_words"),
        yellow_words=_words(triage, "yellow_words"),
        repeat_window_days=int(triage["repeat_window_days"]),
        repeat_threshold=int(triage["repeat_threshold"]),
        tips_per_day=int(limits["tips_per_day"]),
        photos_per_tip=int(limits["photos_per_tip"]),
        description_max_chars=int(limits["description_max_chars"]),
    )

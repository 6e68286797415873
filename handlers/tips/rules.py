"""The tip rules as data (``tips.yaml``): categories, emergency words, triage, limits."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from handlers.tips.emergency_rules import Emergency, EmergencyRules, words

__all__ = ["Category", "Emergency", "EmergencyRules", "TipRules", "load_rules"]

RULES_FILE = Path(__file__).resolve().parent / "tips.yaml"
LEVELS = ("blue", "yellow", "red")
LEVEL_NAMES = {"blue": "蓝色", "yellow": "黄色", "red": "红色"}


@dataclass(frozen=True)
class Category:
    key: str
    name: str
    level: str


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
        money_words=words(raw["fraud"], "money_words"),
        red_words=words(triage, "red_words"),
        yellow_words=words(triage, "yellow_words"),
        repeat_window_days=int(triage["repeat_window_days"]),
        repeat_threshold=int(triage["repeat_threshold"]),
        tips_per_day=int(limits["tips_per_day"]),
        photos_per_tip=int(limits["photos_per_tip"]),
        description_max_chars=int(limits["description_max_chars"]),
    )

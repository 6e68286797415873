"""The patrols' rules as data (``rules.yaml``): limits, roles, activities and points."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

import yaml

RULES_FILE = Path(__file__).resolve().parent / "rules.yaml"


@dataclass(frozen=True)
class Activity:
    key: str
    name: str
    unit: str
    points: int


@dataclass(frozen=True)
class PatrolRules:
    enrolment: timedelta
    max_shift: timedelta
    far_metres: float
    track_seconds: int
    track_metres: float
    report_category: str
    report_level: str
    roles: dict[str, str]
    activities: tuple[Activity, ...]
    points: dict[str, int]
    leaderboard: int

    def role(self, answer: str) -> str | None:
        """A role by its key or its name (宣传员)."""
        for key, name in self.roles.items():
            if answer in (key, name):
                return key
        return None

    def activity(self, word: str) -> Activity | None:
        return next((a for a in self.activities if word in (a.key, a.name)), None)


def parse_rules(raw: dict[str, Any]) -> PatrolRules:
    points = raw["points"]
    per_activity = points.get("activity", {})
    return PatrolRules(
        enrolment=timedelta(days=raw["enrolment_days"]),
        max_shift=timedelta(hours=raw["max_shift_hours"]),
        far_metres=float(raw["far_metres"]),
        track_seconds=int(raw["track"]["min_seconds"]),
        track_metres=float(raw["track"]["min_metres"]),
        report_category=raw["report"]["category"],
        report_level=raw["report"]["level"],
        roles={key: role["name"] for key, role in raw["roles"].items()},
        activities=tuple(
            Activity(key, a["name"], a["unit"], int(per_activity.get(key, 0)))
            for key, a in raw["activities"].items()
        ),
        points={k: int(v) for k, v in points.items() if k != "activity"},
        leaderboard=int(raw.get("leaderboard", 10)),
    )


@cache
def load_patrol_rules(path: Path = RULES_FILE) -> PatrolRules:
    return parse_rules(yaml.safe_load(path.read_text(encoding="utf-8")))

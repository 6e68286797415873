"""Understanding the day a resident plans to visit: 明天, 后天, 5月3日, 2026-05-03, 周六."""

from __future__ import annotations

import re
from datetime import date, timedelta

RELATIVE = {"今天": 0, "明天": 1, "后天": 2, "大后天": 3}
WEEKDAYS = "一二三四五六日天"
_MONTH_DAY = re.compile(r"(?:(\d{4})[年\-/.])?(\d{1,2})[月\-/.](\d{1,2})[日号]?")
_WEEKDAY = re.compile(r"(?:下)?(?:周|星期|礼拜)([一二三四五六日天])")


def parse_visit_day(text: str, today: date) -> date | None:
    """The day meant, if it is today or later (within a year); None when not understood."""
    text = text.strip()
    if text in RELATIVE:
        return today + timedelta(days=RELATIVE[text])
    if match := _MONTH_DAY.fullmatch(text):
        year = int(match[1]) if match[1] else today.year
        try:
            day = date(year, int(match[2]), int(match[3]))
        except ValueError:
            return None
        if day < today and not match[1]:
            day = day.replace(year=year + 1)
        return day if today <= day <= today + timedelta(days=366) else None
    if match := _WEEKDAY.fullmatch(text):
        target = min(WEEKDAYS.index(match[1]), 6)
        if text.startswith("下"):  # in next week, counted from its Monday
            return today + timedelta(days=7 - today.weekday() + target)
        return today + timedelta(days=(target - today.weekday()) % 7 or 7)
    return None

"""How statistics are shown: a phone-sized summary (`本周统计`, the weekly digest), the full
text report and CSV (`pingan report`). Every rate carries its counts; nothing is a rate of 0."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from bot.i18n import _
from handlers.tips.rules import LEVEL_NAMES, LEVELS, TipRules
from handlers.tips.views import cell
from storage.clock import CHINA
from storage.periods import Period
from storage.stats import Comparison, Rate, Report, Times

NONE = "—"


@dataclass(frozen=True)
class Span:
    """One duration of a report (a median or a P90) and how many cases it is taken over."""

    value: timedelta | None
    n: int


Figure = int | Rate | Span


class Row(NamedTuple):
    metric: str  # the CSV's name for it
    label: str
    figures: tuple[Figure, Figure, Figure]  # this period, 环比, 同比


def rate(r: Rate) -> str:
    value = r.value
    shown = NONE if value is None else f"{value:.0%}"
    return f"{shown}（{r.hits}/{r.base}）"


def span(value: timedelta | None) -> str:
    """Minutes under an hour, hours under two days, then days (one decimal at most)."""
    if value is None:
        return NONE
    hours = value.total_seconds() / 3600
    if hours < 1:
        return _("{n}分钟").format(n=round(hours * 60))
    if hours < 48:
        return _("{n}小时").format(n=f"{round(hours, 1):g}")
    return _("{n}天").format(n=f"{round(hours / 24, 1):g}")


def figure(value: Figure) -> str:
    if isinstance(value, Rate):
        return rate(value)
    if isinstance(value, Span):
        return span(value.value)
    return str(value)


def day(moment: datetime) -> str:
    local = moment.astimezone(CHINA)
    return _("{month}月{day}日").format(month=local.month, day=local.day)


def last_day(period: Period) -> datetime:
    """The last moment inside the half-open period (for "to" dates)."""
    return max(period.start, period.end - timedelta(microseconds=1))


def brief(title: str, c: Comparison) -> str:
    """About a dozen short lines: what fits a phone screen without scrolling."""
    now, prev, year = c.current, c.previous, c.last_year

    def times(label: str, t: Times, p: Times, y: Times) -> list[str]:
        return [
            _("{label} {n}件 中位{median} P90 {p90}").format(
                label=label, n=t.n, median=span(t.median), p90=span(t.p90)
            ),
            " "
            + _("环比 中位{previous} 同比 中位{last_year}").format(
                previous=span(p.median), last_year=span(y.median)
            ),
        ]

    return "\n".join(
        [
            title,
            _("收到线索 {n}｜环比 {previous}｜同比 {last_year}").format(
                n=now.received, previous=prev.received, last_year=year.received
            ),
            _("办结率 {rate}").format(rate=rate(now.resolved)),
            " "
            + _("环比 {previous} 同比 {last_year}").format(
                previous=rate(prev.resolved), last_year=rate(year.resolved)
            ),
            _("满意度 {rate}").format(rate=rate(now.satisfaction)),
            " "
            + _("环比 {previous} 同比 {last_year}").format(
                previous=rate(prev.satisfaction), last_year=rate(year.satisfaction)
            ),
            *times(_("受理"), now.acceptance, prev.acceptance, year.acceptance),
            *times(_("办结"), now.resolution, prev.resolution, year.resolution),
            _("转人工 {n}｜已答复 {answered}").format(n=now.handoffs, answered=now.answered),
            " "
            + _("答复 中位{median} P90 {p90}").format(
                median=span(now.response.median), p90=span(now.response.p90)
            ),
        ]
    )


def _category(key: str, rules: TipRules) -> str:
    category = rules.category(key)
    return _(category.name) if category else key


def _community(name: str | None) -> str:
    return name if name is not None else _("未选社区")


def _top(counts: Counter[Any], top: int) -> list[tuple[Any, int]]:
    # Ties in a fixed order (by key), not in the order the rows happened to come.
    return sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))[:top]


def breakdown(report: Report, rules: TipRules, top: int = 3) -> list[str]:
    """The most reported categories and communities, and the levels (for the digest)."""
    categories = "、".join(f"{_category(k, rules)} {n}" for k, n in _top(report.by_category, top))
    communities = "、".join(f"{_community(k)} {n}" for k, n in _top(report.by_community, top))
    levels = "｜".join(f"{_(LEVEL_NAMES[k])} {report.by_level[k]}" for k in reversed(LEVELS))
    return [
        _("类别：{items}").format(items=categories or NONE),
        _("社区：{items}").format(items=communities or NONE),
        levels,
    ]


Pick = Callable[[Report], Figure]
CAT, COM = "by_category", "by_community"  # the breakdowns whose keys vary by period


def _ordered(reports: tuple[Report, ...], field: str) -> list[Any]:
    """Every key of a breakdown any of the periods has; the current period's largest first."""
    counts: list[Counter[Any]] = [getattr(r, field) for r in reports]
    return sorted({k for c in counts for k in c}, key=lambda k: (-counts[0][k], str(k)))


def _count(field: str, key: object) -> Pick:
    return lambda r: int(getattr(r, field)[key])


def _times(
    metric: str, label: str, pick: Callable[[Report], Times]
) -> list[tuple[str, str, Pick]]:
    return [
        (
            f"{metric}_median",
            _("{label}中位数").format(label=label),
            lambda r: Span(pick(r).median, pick(r).n),
        ),
        (
            f"{metric}_p90",
            _("{label}P90").format(label=label),
            lambda r: Span(pick(r).p90, pick(r).n),
        ),
    ]


def rows(c: Comparison, rules: TipRules) -> list[Row]:
    """Every figure of the full report, each beside its 环比 and 同比."""
    reports = (c.current, c.previous, c.last_year)
    specs: list[tuple[str, str, Pick]] = [("received", _("收到线索"), lambda r: r.received)]
    specs += [
        (f"category:{k}", _("类别·{name}").format(name=_category(k, rules)), _count(CAT, k))
        for k in _ordered(reports, CAT)
    ]
    specs += [
        (f"level:{k}", _("级别·{name}").format(name=_(LEVEL_NAMES[k])), _count("by_level", k))
        for k in reversed(LEVELS)
    ]
    specs += [
        (f"community:{_community(k)}", _("社区·{name}").format(name=_community(k)), _count(COM, k))
        for k in _ordered(reports, COM)
    ]
    specs += [("accepted", _("已受理"), lambda r: r.acceptance.n)]
    specs += _times("acceptance", _("受理用时"), lambda r: r.acceptance)
    specs += [
        ("resolved", _("已办结"), lambda r: r.resolved.hits),
        ("resolution_rate", _("办结率"), lambda r: r.resolved),
    ]
    specs += _times("resolution", _("办结用时"), lambda r: r.resolution)
    specs += [
        ("rated", _("已评价"), lambda r: r.satisfaction.base),
        ("satisfied", _("满意与基本满意"), lambda r: r.satisfaction.hits),
        ("satisfaction", _("满意度"), lambda r: r.satisfaction),
        ("handoffs", _("转人工"), lambda r: r.handoffs),
        ("answered", _("已答复"), lambda r: r.answered),
    ]
    specs += _times("response", _("答复用时"), lambda r: r.response)
    return [
        Row(m, label, (pick(c.current), pick(c.previous), pick(c.last_year)))
        for m, label, pick in specs
    ]


def dates(period: Period) -> str:
    """``2026-09-14 至 2026-09-20``: Beijing dates, the last one included."""
    first, last = period.start.astimezone(CHINA), last_day(period).astimezone(CHINA)
    return _("{first} 至 {last}").format(first=f"{first:%Y-%m-%d}", last=f"{last:%Y-%m-%d}")


def full(c: Comparison, rules: TipRules) -> str:
    """The text report: one line per figure, with its 环比 and 同比."""
    head = [
        _("统计 {dates}（北京时间）").format(dates=dates(c.current.period)),
        _("环比 {previous}；同比 {last_year}").format(
            previous=dates(c.previous.period), last_year=dates(c.last_year.period)
        ),
    ]
    body = [
        _("{label}：{value}｜环比 {previous}｜同比 {last_year}").format(
            label=row.label,
            value=figure(row.figures[0]),
            previous=figure(row.figures[1]),
            last_year=figure(row.figures[2]),
        )
        for row in rows(c, rules)
    ]
    return "\n".join(head + body)


CSV_COLUMNS = (
    "metric",
    "value",
    "count",
    "previous",
    "previous_count",
    "last_year",
    "last_year_count",
)


def _cells(value: Figure) -> tuple[str, str]:
    """(value, count): a rate as a fraction of its base, a time in minutes over n cases."""
    if isinstance(value, Rate):
        ratio = value.value
        return ("" if ratio is None else f"{ratio:.4f}", str(value.base))
    if isinstance(value, Span):
        minutes = value.value
        shown = "" if minutes is None else f"{minutes.total_seconds() / 60:.1f}"
        return (shown, str(value.n))
    return (str(value), "")


def to_csv(c: Comparison, rules: TipRules) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows(c, rules):
        # Community names come from staff, but a formula in a cell is never what they meant.
        writer.writerow([cell(row.metric), *(x for f in row.figures for x in _cells(f))])
    return out.getvalue()

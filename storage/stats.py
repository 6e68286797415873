"""Station statistics, computed from the raw rows of a range (never from stored totals).

Definitions (the numbers a chief reports upward, so each is spelled out):

* A report covers a half-open range ``[start, end)`` of aware UTC datetimes
  (``storage.periods.Period``).
* **Cohort**: the tips *received* in the range (``tips.created_at``), followed up to ``end``:
  their acceptance, resolution and rating count when they happened before ``end``, however
  long after the tip came in. A tip received in the range and resolved after ``end`` is
  unresolved in this report; a tip received before ``start`` is not in it at all, even if it
  was resolved inside the range. Nothing after ``end`` counts, so a past range keeps its
  numbers, and a shorter span ("this week so far") compares fairly with the same span before.
* **Acceptance time**: the first ``tip_events`` row with action ``status`` and to_value
  ``accepted``, minus ``created_at``. A tip resolved or rejected without being accepted has
  no acceptance time.
* **Resolution time**: ``resolved_at − created_at``, for cohort tips resolved before ``end``.
* **Resolution rate** = resolved / received; **satisfaction** = (满意 + 基本满意) / rated, a
  tip being rated when its ``rating`` event came before ``end``. Both keep their counts.
* **Hand-offs**: received in the range (``handoffs.created_at``); answered before ``end``;
  response time = ``answered_at − created_at``.
* **Median**: ``statistics.median`` (the mean of the two middle values for an even count).
* **P90**: nearest rank — the smallest value with at least 90 % of the values at or below
  it, i.e. the ⌈0.9·n⌉-th smallest. Always a time that really occurred.
* No rows: counts 0, times and rates ``None`` (shown as "—", never as 0 %).
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Community, Handoff, Tip, TipEvent
from storage.periods import Period

#: The ratings that count as satisfied: the stored values of ``handlers.tips.service.RATINGS``.
SATISFIED = frozenset({"满意", "基本满意"})


# -- the rows a report is computed from ---------------------------------------------------


class TipRow(NamedTuple):
    id: int
    created_at: datetime
    category: str
    level: str
    community: str | None  # the community's name
    resolved_at: datetime | None


class EventRow(NamedTuple):
    tip_id: int
    action: str
    to_value: str | None
    at: datetime


class HandoffRow(NamedTuple):
    created_at: datetime
    answered_at: datetime | None


# -- the numbers --------------------------------------------------------------------------


@dataclass(frozen=True)
class Rate:
    hits: int
    base: int

    @property
    def value(self) -> float | None:
        return self.hits / self.base if self.base else None


@dataclass(frozen=True)
class Times:
    """Durations of ``n`` cases: their median and P90 (None when n is 0)."""

    n: int
    median: timedelta | None
    p90: timedelta | None


@dataclass(frozen=True)
class Report:
    period: Period
    received: int
    by_category: Counter[str]
    by_level: Counter[str]
    by_community: Counter[str | None]
    acceptance: Times
    resolution: Times
    resolved: Rate  # resolved / received
    satisfaction: Rate  # (满意 + 基本满意) / rated
    handoffs: int
    answered: int
    response: Times


@dataclass(frozen=True)
class Comparison:
    current: Report
    previous: Report  # 环比
    last_year: Report  # 同比


def nearest_rank(values: Sequence[float], percent: int) -> float:
    """The ⌈percent·n/100⌉-th smallest value (integer arithmetic: no 0.9·70 = 63.000…1)."""
    ordered = sorted(values)
    rank = -(-percent * len(ordered) // 100)
    return ordered[max(rank, 1) - 1]


def times(durations: Iterable[timedelta]) -> Times:
    seconds = [d.total_seconds() for d in durations]
    if not seconds:
        return Times(0, None, None)
    return Times(
        len(seconds),
        timedelta(seconds=statistics.median(seconds)),
        timedelta(seconds=nearest_rank(seconds, 90)),
    )


def compute(
    period: Period,
    tips: Sequence[TipRow],
    events: Iterable[EventRow],
    handoffs: Sequence[HandoffRow],
) -> Report:
    """The report of ``period`` from its rows: pure, and strict about the range itself (rows
    outside it, or events after its end, are ignored whoever loaded them)."""
    cohort = {t.id: t for t in tips if period.start <= t.created_at < period.end}
    accepted: dict[int, datetime] = {}
    rating: dict[int, tuple[datetime, str | None]] = {}
    for e in events:
        if e.tip_id not in cohort or e.at >= period.end:
            continue
        if e.action == "status" and e.to_value == "accepted":
            accepted[e.tip_id] = min(e.at, accepted.get(e.tip_id, e.at))
        elif e.action == "rating" and e.at >= rating.get(e.tip_id, (e.at, None))[0]:
            rating[e.tip_id] = (e.at, e.to_value)  # the latest rating before the end counts
    resolved = [t for t in cohort.values() if t.resolved_at and t.resolved_at < period.end]
    asked = [h for h in handoffs if period.start <= h.created_at < period.end]
    answered = [h for h in asked if h.answered_at and h.answered_at < period.end]
    rows = cohort.values()
    return Report(
        period=period,
        received=len(cohort),
        by_category=Counter(t.category for t in rows),
        by_level=Counter(t.level for t in rows),
        by_community=Counter(t.community for t in rows),
        acceptance=times(at - cohort[tip_id].created_at for tip_id, at in accepted.items()),
        resolution=times(t.resolved_at - t.created_at for t in resolved if t.resolved_at),
        resolved=Rate(len(resolved), len(cohort)),
        satisfaction=Rate(sum(v in SATISFIED for _, v in rating.values()), len(rating)),
        handoffs=len(asked),
        answered=len(answered),
        response=times(h.answered_at - h.created_at for h in answered if h.answered_at),
    )


class StatsRepo:
    """Loads a period's rows (three small queries) and computes its report."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def report(self, period: Period) -> Report:
        received = and_(Tip.created_at >= period.start, Tip.created_at < period.end)
        tip_rows = await self.session.execute(
            select(
                Tip.id, Tip.created_at, Tip.category, Tip.level, Community.name, Tip.resolved_at
            )
            .outerjoin(Community, Community.id == Tip.community_id)
            .where(received)
        )
        event_rows = await self.session.execute(
            select(TipEvent.tip_id, TipEvent.action, TipEvent.to_value, TipEvent.at)
            .join(Tip, Tip.id == TipEvent.tip_id)
            .where(received, TipEvent.action.in_(("status", "rating")), TipEvent.at < period.end)
        )
        handoff_rows = await self.session.execute(
            select(Handoff.created_at, Handoff.answered_at).where(
                Handoff.created_at >= period.start, Handoff.created_at < period.end
            )
        )
        return compute(
            period,
            [TipRow(*r) for r in tip_rows],
            [EventRow(*r) for r in event_rows],
            [HandoffRow(*r) for r in handoff_rows],
        )

    async def compare(self, period: Period, *, previous: Period, last_year: Period) -> Comparison:
        return Comparison(
            await self.report(period), await self.report(previous), await self.report(last_year)
        )

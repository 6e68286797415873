"""`pingan report --from YYYY-MM-DD --to YYYY-MM-DD [--csv]`: the station's statistics for
Beijing dates (``--to`` included), beside the period just before (环比) and the same dates a
year earlier (同比). Definitions: ``storage.stats``."""

from __future__ import annotations

import argparse
from datetime import date

from bot.admin import opened
from bot.config import Settings
from handlers.officers.statsview import full, to_csv
from handlers.tips.rules import load_rules
from storage.periods import Period
from storage.stats import StatsRepo


async def report_show(settings: Settings, args: argparse.Namespace) -> str:
    try:
        first, last = date.fromisoformat(args.first), date.fromisoformat(args.last)
    except ValueError:
        return "dates are YYYY-MM-DD, e.g. --from 2026-09-14 --to 2026-09-20"
    if last < first:
        return "--to is before --from"
    period = Period.days(first, last)
    async with opened(settings) as (database, _), database.reader() as session:
        comparison = await StatsRepo(session).compare(
            period, previous=period.previous(), last_year=period.year_before()
        )
    render = to_csv if args.csv else full
    return render(comparison, load_rules()).rstrip("\n")

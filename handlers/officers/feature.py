"""The officers' feature as the dispatcher composes it: its routers, in the order they try."""

from __future__ import annotations

from handlers.officers import cases, lists, menu, reveal, stats, triage
from handlers.officers import router as commands

ROUTERS = (
    commands.router,
    lists.router,
    cases.router,
    triage.router,
    reveal.router,
    stats.router,
    menu.router,
)

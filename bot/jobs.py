"""A delivery on its way through one process (``bot.pipeline``), and what it may meet."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field


@dataclass
class Job:
    """One delivery on its way through this process."""

    key: str  # the keyed dedup key
    user_key: str  # the keyed sender
    payload: str  # the inbound XML, sealed into the ledger if no handler finishes it
    reply: asyncio.Future[str] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    outcome: str = "handled"
    stored: bool = False  # the message is in the ledger (our claim or an earlier one)
    late: bool = False  # the webhook answered already: send the reply as a push
    handling: bool = False  # this job runs the handler (it is in ``Pipeline.active``)


class EarlierElsewhere(Exception):
    """Another process still handles an earlier message of this user: wait, then retry."""

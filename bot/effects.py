"""Handlers run many messages to one transaction: effects, dialogs, replies and ledger rows.

A batch (see ``bot.batcher``) holds messages of different senders (a sender's next message
waits for the one before it, ``bot.order``). In one transaction it

1. on PostgreSQL, locks the senders (advisory locks, in one order in every process); sets
   aside messages whose sender has an earlier one still handled by another process;
2. locks the batch's ledger rows and drops those this process no longer owns (taken over);
3. loads the senders' profiles and dialogs in two statements;
4. runs the handlers one after another, then closes every ledger row in one statement.

All or nothing: when anything fails, the transaction rolls back and the batch runs again.
If a handler raised or ran past the batch's budget, the others go again together without it,
then it alone with the full handler timeout (so a slow handler, a heavy statistics query
say, holds the others up for one budget at most); if the failure was outside the handlers
(the store refused the commit), each message goes again alone. A failing handler therefore
fails only its own message. No effect outside the store has run when a batch rolls back:
the handlers' calls to WeChat (``after_commit``, the outbox) start only once their
transaction committed, and the rolled-back attempt's are dropped with it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.batcher import Batcher, Entry
from bot.config import Settings
from bot.dispatcher import Dispatcher
from bot.jobs import EarlierElsewhere, Job
from bot.keys import Keys
from bot.media import Fetched
from bot.message import Message
from bot.push import Outbox
from storage.clock import Clock, utc
from storage.deliveries import DeliveryRepo, LostOwnership
from storage.users import preload

log = logging.getLogger("pingan.effects")

#: Something to do once the transaction committed (a call to WeChat, say).
AfterCommit = Callable[[], Awaitable[None]]


@dataclass
class Work:
    """A claimed message whose turn has come."""

    message: Message
    job: Job
    fetched: Fetched


@dataclass
class Handled:
    """What a committed message left to do."""

    text: str | None
    xml: str  # the plain reply, as stored in the ledger ("" for none)
    pushes: list[int]  # outbox rows to send now
    after: list[AfterCommit] = field(default_factory=list)
    queued: bool = False  # the reply itself is in the outbox (the webhook answered already)


@dataclass
class _Progress:
    """Which message's handler an attempt is running (to blame it if the batch fails)."""

    current: int | None = None


class Effects:
    def __init__(
        self,
        *,
        settings: Settings,
        dispatcher: Dispatcher,
        sessionmaker: async_sessionmaker[AsyncSession],
        keys: Keys,
        clock: Clock,
        owner: str,
        render: Callable[[Message, str], str],
        services: dict[str, Any],
    ) -> None:
        self.settings = settings
        self.dispatcher = dispatcher
        self.sessionmaker = sessionmaker
        self.keys = keys
        self.clock = clock
        self.owner = owner
        self.render = render
        self.services = services  # extra handler data: api, pusher…
        self.postgres = sessionmaker.kw["bind"].dialect.name == "postgresql"
        self._batcher: Batcher[Work, Handled] = Batcher(self._run, limit=settings.batch_limit)

    async def handle(self, work: Work) -> Handled:
        """Run the message's handler; raises what it raised, ``LostOwnership`` when another
        process took the message over, ``EarlierElsewhere`` when it must wait its turn."""
        return await self._batcher.submit(work)

    async def _run(self, batch: list[Entry[Work, Handled]]) -> None:
        """Run a batch; each message's submitter hears as soon as its part committed."""
        works = [entry.item for entry in batch]
        if len(batch) == 1:
            try:
                async with asyncio.timeout(self.settings.handler_timeout):
                    outcomes = await self._attempt(works, _Progress())
            except Exception as exc:
                outcomes = [exc]
            batch[0].settle(outcomes[0])
            return
        progress = _Progress()
        try:
            async with asyncio.timeout(self.settings.batch_budget):
                outcomes = await self._attempt(works, progress)
        except Exception as exc:
            culprit = progress.current
            log.warning(
                "a batch of %d failed (%s) %s",
                len(batch),
                type(exc).__name__,
                "in a handler: the others run again without it, then it alone"
                if culprit is not None
                else "outside the handlers: each message runs again alone",
            )
        else:
            for entry, outcome in zip(batch, outcomes, strict=True):
                entry.settle(outcome)
            return
        if culprit is None:
            for entry in batch:
                await self._run([entry])
            return
        # The culprit last and alone, so that it holds no one up; its sender's later
        # messages (if any) still follow it.
        sender = works[culprit].job.user_key
        first = [e for i, e in enumerate(batch) if i < culprit or e.item.job.user_key != sender]
        if first:
            await self._run(first)
        for entry in batch:
            if entry not in first:
                await self._run([entry])

    async def _attempt(
        self, batch: list[Work], progress: _Progress
    ) -> list[Handled | BaseException]:
        now = utc(self.clock)
        keys = [work.job.key for work in batch]
        outcomes: list[Handled | BaseException] = []
        async with self.sessionmaker.begin() as session:
            repo = DeliveryRepo(session)
            if self.postgres:  # SQLite's one writer at a time is lock enough
                await repo.lock_senders({work.job.user_key for work in batch})
            # Across processes: a sender's messages in claim order.
            owned, waiting = await repo.turns(keys, self.owner)
            loaded = await preload(session, {work.message.openid for work in batch})
            replies: list[tuple[str, str]] = []
            for i, work in enumerate(batch):
                key = work.job.key
                if key in waiting:
                    outcomes.append(EarlierElsewhere())
                elif key not in owned:
                    outcomes.append(LostOwnership(key))
                else:
                    progress.current = i
                    handled = await self._handle(session, work, now)
                    replies.append((key, handled.xml))
                    outcomes.append(handled)
            progress.current = None
            await repo.finish_done(replies, owner=self.owner, now=now)
            del loaded  # held until here: the session keeps unchanged objects only weakly
        return outcomes

    async def _handle(self, session: AsyncSession, work: Work, now: datetime) -> Handled:
        message, job = work.message, work.job
        outbox = Outbox(session, now, self.keys)
        after: list[AfterCommit] = []
        data: dict[str, Any] = {
            **self.services,
            "session": session,
            "settings": self.settings,
            "now": now,
            "clock": self.clock,
            "outbox": outbox,
            "media": work.fetched.media,
            "media_problem": work.fetched.problem,
            "sessionmaker": self.sessionmaker,
            "after_commit": after,
        }
        text = await self.dispatcher.feed(message, data)
        xml = self.render(message, text) if text else ""
        queued = False
        if job.late and text:  # already late (a takeover): the reply commits with the rest
            await outbox.text(message.openid, text)
            queued = True
        return Handled(text=text, xml=xml, pushes=outbox.ids, after=after, queued=queued)

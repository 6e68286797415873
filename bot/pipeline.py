"""One delivery from webhook to reply: dedup, per-user order, one transaction, time budget.

1. Claim the delivery in the ledger (its own short transaction). A retry finds the claim and
   waits for the stored reply instead of running the handler again.
2. Run the dispatcher in one transaction with the ledger update, under a per-user lock (an
   asyncio lock in this process, an advisory transaction lock on PostgreSQL across processes),
   so the stored reply, the dialog state and the handler's effects commit together.
3. The webhook waits for the reply up to the budget. Past it the webhook answers ``success``
   and the reply goes out through the customer-service API when it is ready.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.api import Media
from bot.config import Settings
from bot.dispatcher import Dispatcher
from bot.errors import WeChatAPIError
from bot.i18n import _
from bot.message import Message
from bot.metrics import Metrics
from bot.protocol import ProtocolError, dedup_key, parse_xml, render_text_reply, to_message
from bot.push import Outbox, Pusher
from storage.clock import Clock, utc
from storage.deliveries import DeliveryRepo

log = logging.getLogger("pingan.pipeline")


@dataclass
class _Job:
    reply: asyncio.Future[str] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    late: bool = False


def _lock_id(openid: str) -> int:
    """A signed 64-bit key for pg_advisory_xact_lock."""
    return int.from_bytes(hashlib.sha256(openid.encode()).digest()[:8], "big", signed=True)


class Pipeline:
    def __init__(
        self,
        *,
        settings: Settings,
        dispatcher: Dispatcher,
        sessionmaker: async_sessionmaker[AsyncSession],
        reader: async_sessionmaker[AsyncSession],
        pusher: Pusher,
        metrics: Metrics,
        clock: Clock,
        services: dict[str, Any],
    ) -> None:
        self.settings = settings
        self.dispatcher = dispatcher
        self.sessionmaker = sessionmaker
        self.reader = reader
        self.pusher = pusher
        self.metrics = metrics
        self.clock = clock
        self.services = services  # extra handler data: api, pusher…
        self.tasks: set[asyncio.Task[None]] = set()
        self._user_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )
        self._postgres = sessionmaker.kw["bind"].dialect.name == "postgresql"

    async def handle(self, message: Message, payload: str) -> tuple[str, str]:
        """Returns ``(outcome, plain reply XML)``; an empty reply means answer ``success``."""
        key = dedup_key(message)
        async with self.sessionmaker.begin() as session:
            claimed = await DeliveryRepo(session).claim(
                dedup_key=key,
                openid=message.openid,
                msg_type=message.msg_type,
                event=message.event,
                payload=payload,
                now=utc(self.clock),
            )
        if not claimed:
            self.metrics.dedup_hits.inc()
            return "duplicate", await self._stored_reply(key)
        job = _Job()
        task = asyncio.create_task(self._process(message, key, job), name=f"update-{key[:12]}")
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        try:
            return "handled", await asyncio.wait_for(
                asyncio.shield(job.reply), self.settings.reply_budget
            )
        except TimeoutError:
            if job.reply.done():  # finished in the same instant: still in time
                return "handled", job.reply.result()
            job.late = True
            return "late", ""

    async def _stored_reply(self, key: str) -> str:
        """Wait (within the budget) for the first delivery of this message to finish."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.reply_budget
        delay = 0.01
        while True:
            async with self.reader() as session:
                outcome = await DeliveryRepo(session).outcome(key)
            if outcome is not None and outcome.status != "processing":
                return outcome.reply or ""
            remaining = deadline - loop.time()
            if remaining <= 0:
                return ""
            await asyncio.sleep(min(delay, remaining))
            delay = min(delay * 2, 0.2)

    async def _process(self, message: Message, key: str, job: _Job) -> None:
        text: str | None
        try:
            text, xml, pushes = await asyncio.wait_for(
                self._run(message, key), self.settings.handler_timeout
            )
        except Exception:
            # The handler's transaction rolled back; the inbound payload stays in the ledger.
            log.exception("handler failed key=%s msg_type=%s", key[:12], message.msg_type)
            self.metrics.handler_errors.inc()
            text = _("系统繁忙，您的消息已记录，请稍后再试。")
            xml = self._render(message, text)
            pushes = []
            async with self.sessionmaker.begin() as session:
                await DeliveryRepo(session).finish(
                    key, status="failed", reply=xml, now=utc(self.clock)
                )
        if job.late:
            if text:
                self.metrics.late_replies.inc()
                await self.pusher.send_text(message.openid, text)
        else:
            job.reply.set_result(xml)
        await self.pusher.flush(pushes)

    def _render(self, message: Message, text: str) -> str:
        return render_text_reply(
            account=message.account, openid=message.openid, content=text, now=int(self.clock())
        )

    async def _fetch_media(self, message: Message) -> Media | None:
        """Download a photo or voice clip now (WeChat keeps it 3 days), outside any transaction."""
        if message.msg_type not in ("image", "voice") or not message.media_id:
            return None
        try:
            media: Media = await self.services["api"].download_media(message.media_id)
        except WeChatAPIError as exc:
            log.warning("media download failed errcode=%s", exc.errcode)
            return None
        return media

    async def _run(self, message: Message, key: str) -> tuple[str | None, str, list[int]]:
        media = await self._fetch_media(message)
        after_commit: list[Callable[[], Awaitable[None]]] = []
        lock = self._user_locks.get(message.openid)
        if lock is None:
            lock = self._user_locks[message.openid] = asyncio.Lock()
        async with lock, self.sessionmaker.begin() as session:
            if self._postgres:
                await session.execute(select(func.pg_advisory_xact_lock(_lock_id(message.openid))))
            now = utc(self.clock)
            outbox = Outbox(session, now)
            data: dict[str, Any] = {
                **self.services,
                "session": session,
                "settings": self.settings,
                "now": now,
                "clock": self.clock,
                "outbox": outbox,
                "media": media,
                "sessionmaker": self.sessionmaker,
                "after_commit": after_commit,
            }
            text = await self.dispatcher.feed(message, data)
            xml = self._render(message, text) if text else ""
            await DeliveryRepo(session).finish(key, status="done", reply=xml, now=utc(self.clock))
        for effect in after_commit:  # calls to WeChat the update asked for, now it is stored
            try:
                await effect()
            except Exception:
                log.exception("after-commit effect failed key=%s", key[:12])
        return text, xml, outbox.ids

    async def recover(self) -> int:
        """Finish deliveries whose process died mid-way (at start-up); replies go out late.

        A delivery is only taken over once it has been "processing" for longer than the
        handler timeout, so a live process's slow handler is never run twice.
        """
        now = utc(self.clock)
        cutoff = now - timedelta(seconds=self.settings.handler_timeout)
        async with self.reader() as session:
            stale = await DeliveryRepo(session).stale(cutoff)
        recovered = 0
        for key, payload in stale:
            async with self.sessionmaker.begin() as session:
                repo = DeliveryRepo(session)
                if not await repo.reclaim(key, before=cutoff, now=now):
                    continue
                try:
                    message = to_message(parse_xml(payload))
                except ProtocolError:
                    await repo.finish(key, status="failed", reply="", now=now)
                    continue
            log.warning("recovering delivery key=%s msg_type=%s", key[:12], message.msg_type)
            await self._process(message, key, _Job(late=True))
            recovered += 1
        return recovered

    async def close(self) -> None:
        """Let in-flight updates finish (they hold committed claims), then return."""
        if self.tasks:
            await asyncio.wait(self.tasks, timeout=self.settings.handler_timeout)

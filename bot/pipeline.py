"""One delivery from webhook to reply: dedup, per-user order, one transaction, time budget.

1. Claim the delivery in the ledger under this process's name, in one transaction with the
   other messages that arrived meanwhile (``bot.claims``). Nothing is acknowledged before
   the claim commits: a message WeChat was told ``success`` for is always in the store.
2. A retry finds the claim. If its owner is alive it waits for the stored reply; if the owner
   died (kill -9 mid-message) the retry takes the delivery over and handles it at once.
3. A user's messages are handled one at a time in arrival order (downloads included): in this
   process by a chain of futures taken on arrival; across processes by a look at the user's
   earlier deliveries still in flight elsewhere (plus, on PostgreSQL, an advisory lock).
4. The dispatcher runs in one transaction with the ledger update, so the stored reply, the
   dialog state and the handler's effects commit together, and only if this process still
   owns the delivery; messages of different users share that transaction (``bot.effects``,
   which also says how a failing or slow one is set apart). Calls to WeChat happen after
   commit, never inside a write transaction.
5. The webhook waits for the reply up to the budget; past it WeChat gets ``success`` and the
   reply goes out through the customer-service API when it is ready.
6. Every process sweeps the ledger every few seconds and finishes what dead processes left.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import loggers
from bot.claims import Claims
from bot.config import Settings
from bot.dispatcher import Dispatcher
from bot.effects import Effects, Handled, Work
from bot.i18n import _
from bot.jobs import EarlierElsewhere, Job
from bot.keys import Keys
from bot.liveness import Liveness
from bot.media import MediaFetcher
from bot.message import Message
from bot.metrics import Metrics
from bot.order import ArrivalOrder, Place
from bot.protocol import ProtocolError, dedup_source, render_text_reply
from bot.push import Pusher
from bot.ratelimit import RateLimiter
from storage.clock import Clock, utc
from storage.deliveries import Claim, DeliveryRepo, LostOwnership, Nonce, NonceReused

log = logging.getLogger("pingan.pipeline")


class Pipeline:
    def __init__(
        self,
        *,
        settings: Settings,
        dispatcher: Dispatcher,
        sessionmaker: async_sessionmaker[AsyncSession],
        reader: async_sessionmaker[AsyncSession],
        pusher: Pusher,
        media: MediaFetcher,
        keys: Keys,
        liveness: Liveness,
        metrics: Metrics,
        clock: Clock,
        services: dict[str, Any],
    ) -> None:
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.reader = reader
        self.pusher = pusher
        self.media = media
        self.keys = keys
        self.liveness = liveness
        self.metrics = metrics
        self.clock = clock
        self.tasks: set[asyncio.Task[None]] = set()
        self.order = ArrivalOrder()
        #: Deliveries whose handler runs in this process now; a row of ours that is still
        #: "processing" but not in here was left by a failure and is an orphan like any other.
        self.active: set[str] = set()
        self.limiter = RateLimiter(settings.user_rate_limit, settings.user_rate_window, clock)
        owner = liveness.instance
        self.claims = Claims(sessionmaker, owner=owner, clock=clock, limit=settings.batch_limit)
        self.effects = Effects(
            settings=settings,
            dispatcher=dispatcher,
            sessionmaker=sessionmaker,
            keys=keys,
            clock=clock,
            owner=owner,
            render=self._render,
            services=services,
        )

    def _spawn(self, coro: Awaitable[None], name: str) -> None:
        task = asyncio.ensure_future(coro)
        task.set_name(name)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    # -- the webhook's entry ----------------------------------------------------------------

    def nonce_for(self, timestamp: str, nonce: str, body: str) -> Nonce:
        """Keyed digests of a plain call's (timestamp, nonce) and of its body."""
        return self.keys.mac("nonce", f"{timestamp}|{nonce}"), self.keys.mac("body", body)

    async def handle(
        self, message: Message, payload: str, *, nonce: Nonce | None = None
    ) -> tuple[str, str | None]:
        """Returns ``(outcome, plain reply XML)``: ``""`` means answer ``success``, None means
        the message is not stored yet (answer nothing useful, so that WeChat retries)."""
        job = self._job(message, payload)
        place = self.order.enter(message.openid)
        # Claims queue in the order the tasks start, which is the order of arrival.
        self._spawn(
            self._deliver(message, nonce, job, place),
            f"update-{job.key[:8]}",
        )
        try:
            xml = await asyncio.wait_for(asyncio.shield(job.reply), self.settings.reply_budget)
        except TimeoutError:
            if job.reply.done():  # finished in the same instant: still in time
                return job.outcome, job.reply.result()
            job.late = True
            if not job.stored:
                log.warning("store too slow to record key=%s: WeChat will retry", job.key[:12])
                return "unstored", None
            log.warning("reply missed the budget key=%s: it will be pushed", job.key[:12])
            return "late", ""
        return job.outcome, xml

    async def _deliver(
        self,
        message: Message,
        nonce: Nonce | None,
        job: Job,
        place: Place,
    ) -> None:
        previous, mine = place
        try:
            claimed = await self._claim(message, job, nonce)
            job.stored = True
            if claimed:
                self._handling(job)
                await self._in_order(previous, message, job)
            else:
                # A copy holds no place of its own: whoever came after it waits only for what
                # came before it (the first copy may be the one waiting behind this place).
                self.order.pass_through(previous, mine)
                await self._retry(message, job)
        except BaseException as exc:
            if not job.reply.done():
                job.reply.set_exception(exc)
                job.reply.exception()  # retrieved: a late failure is logged below, not lost
            if not isinstance(exc, ProtocolError | asyncio.CancelledError):
                loggers.safe_exception(log, "delivery failed key=%s", job.key[:12], exc=exc)
        finally:
            self.order.pass_through(previous, mine)
            if job.handling:
                self.active.discard(job.key)

    def _handling(self, job: Job) -> None:
        job.handling = True
        self.active.add(job.key)

    async def adopt(self, key: str, old: str | None) -> str | None:
        """Take over a delivery whose owner is gone; its payload if this process won it.

        The key is marked active here first (no await between the check and the mark, so a
        retry and the sweep never both take it); the winner unmarks it when it is done.
        """
        if key in self.active:
            return None
        self.active.add(key)
        async with self.sessionmaker.begin() as session:
            payload = await DeliveryRepo(session).take_over(
                key, old=old, owner=self.liveness.instance
            )
        if payload is None:
            self.active.discard(key)  # another process got there first
            return None
        self.metrics.taken_over.inc()
        return payload

    def orphaned(self, owner: str | None, key: str) -> bool:
        """Without a live handler: no owner, or ours but not running (a failure left it)."""
        return owner is None or (owner == self.liveness.instance and key not in self.active)

    def _job(self, message: Message, payload: str, key: str | None = None) -> Job:
        return Job(
            key=key or self.keys.mac("dedup", dedup_source(message)),
            user_key=self.keys.mac("user", message.openid),
            payload=payload,
        )

    async def _claim(self, message: Message, job: Job, nonce: Nonce | None) -> bool:
        claim = Claim(
            dedup_key=job.key,
            user_key=job.user_key,
            msg_type=message.msg_type,
            event=message.event,
            payload=job.payload,
        )
        try:
            return await self.claims.claim(claim, nonce)
        except NonceReused:
            self.metrics.forged.labels(reason="nonce").inc()
            raise ProtocolError(403, "nonce already used with another body") from None

    async def _retry(self, message: Message, job: Job) -> None:
        """WeChat sent this delivery again: reply as stored, or take over from a dead owner."""
        self.metrics.dedup_hits.inc()
        job.outcome = "duplicate"
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.reply_budget
        delay = 0.01
        while True:
            async with self.reader() as session:
                outcome = await DeliveryRepo(session).outcome(job.key)
            if outcome is None:  # pruned long ago: nothing left to say
                job.reply.set_result("")
                return
            if outcome.status != "processing":
                job.reply.set_result(outcome.reply or "")
                return
            owner = outcome.owner
            gone = self.orphaned(owner, job.key) or (
                owner not in (None, self.liveness.instance)
                and bool(await self.liveness.dead({owner}))
            )
            if gone and (won := await self.adopt(job.key, owner)) is not None:
                job.handling, job.payload = True, won
                log.warning("retry took over key=%s from a dead process", job.key[:12])
                job.outcome = "taken_over"  # its turn came long ago: no waiting
                await self._process(message, job)
                return
            if loop.time() >= deadline or job.late:
                return  # its live owner answers it (late, as a push, if need be)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.2)

    # -- handling ---------------------------------------------------------------------------

    async def _in_order(
        self, previous: asyncio.Future[None] | None, message: Message, job: Job
    ) -> None:
        if previous is not None:
            await asyncio.shield(previous)
        await self._process(message, job)

    async def _process(self, message: Message, job: Job) -> None:
        key = job.key
        try:
            handled = await self._run(message, job)
        except LostOwnership:
            log.warning("another process took over key=%s: effects rolled back", key[:12])
            return
        except Exception as exc:
            # The handler's transaction rolled back; the inbound payload is kept, sealed.
            loggers.safe_exception(
                log, "handler failed key=%s msg_type=%s", key[:12], message.msg_type, exc=exc
            )
            self.metrics.handler_errors.inc()
            text = _("系统繁忙，您的消息已记录，请稍后再试。")
            handled = Handled(text=text, xml=self._render(message, text), pushes=[])
            if not await self._close(job, status="failed", xml=handled.xml):
                return
        if job.late:
            if handled.text:
                self.metrics.late_replies.inc()
                if not handled.queued:  # went late while the handler ran
                    await self.pusher.send_text(message.openid, handled.text)
        else:
            job.reply.set_result(handled.xml)
        # Calls to WeChat the update asked for, now that it is stored and answered.
        for effect in handled.after:
            try:
                await effect()
            except Exception as exc:
                loggers.safe_exception(log, "after-commit effect failed key=%s", key[:12], exc=exc)
        await self.pusher.flush(handled.pushes)

    async def _close(self, job: Job, *, status: str, xml: str) -> bool:
        """Record a delivery that ran no handler (failed or over the limit), payload sealed."""
        async with self.sessionmaker.begin() as session:
            try:
                await DeliveryRepo(session).finish(
                    job.key,
                    owner=self.liveness.instance,
                    status=status,
                    reply=xml,
                    payload=self.keys.seal(job.payload),
                    now=utc(self.clock),
                )
            except LostOwnership:
                return False
        return True

    def _render(self, message: Message, text: str) -> str:
        return render_text_reply(
            account=message.account, openid=message.openid, content=text, now=int(self.clock())
        )

    async def _run(self, message: Message, job: Job) -> Handled:
        if self.limiter.over(message):
            self.metrics.rate_limited.inc()
            notice = _("您发送得太快了，消息已记录。请稍等一分钟再发。紧急情况请直接拨打 110。")
            xml = self._render(message, notice)
            if not await self._close(job, status="limited", xml=xml):
                raise LostOwnership(job.key)
            return Handled(text=notice, xml=xml, pushes=[])
        fetched = await self.media.fetch_if_wanted(message)
        delay = 0.01
        while True:
            try:
                return await self.effects.handle(Work(message, job, fetched))
            except EarlierElsewhere:
                await asyncio.sleep(delay)  # nothing was done yet: wait for it, then again
                delay = min(delay * 2, 0.2)
                if fetched.media is None:  # the earlier message may open a step that wants it
                    fetched = await self.media.fetch_if_wanted(message)

    async def resume(self, message: Message, key: str, payload: str) -> None:
        """Finish a delivery ``adopt``ed from a dead process; the reply goes out as a push.
        Not behind the user's queue: later messages there may wait for this one (in the
        ledger's order), and its turn came long ago."""
        job = self._job(message, payload, key)
        job.late = job.stored = job.handling = True
        await self._process(message, job)

    async def close(self) -> None:
        """Let in-flight updates finish (they hold committed claims), then return."""
        if self.tasks:
            await asyncio.wait(self.tasks, timeout=self.settings.handler_timeout)

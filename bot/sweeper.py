"""Every live process sweeps the delivery ledger: what a dead process left is finished.

A delivery stays "processing" when its process dies mid-way (kill -9, a crash, a lost host).
WeChat's retry takes it over when there is one (``Pipeline``); the sweep finds the rest, every
``sweep_interval`` seconds, however young the rows and however many: owners are judged alive
or dead by their lock (``bot.liveness``), never by age. It also forgets what only WeChat's
retries needed: stored replies and plain-mode nonces.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from bot import loggers
from bot.protocol import ProtocolError, parse_xml, to_message
from storage.clock import utc
from storage.deliveries import DeliveryRepo

if TYPE_CHECKING:
    from bot.pipeline import Pipeline

log = logging.getLogger("pingan.sweeper")


class Sweeper:
    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self._one_at_a_time = asyncio.Lock()

    async def sweep(self) -> int:
        """Finish every delivery a dead process left "processing"; returns how many.

        One sweep at a time in a process: a second waits for the first, then finds its work
        done (so a caller knows everything orphaned so far is finished when this returns).
        """
        async with self._one_at_a_time:
            return await self._sweep()

    async def _sweep(self) -> int:
        pipeline = self.pipeline
        me = pipeline.liveness.instance
        recovered = 0
        after_id = 0
        while True:
            async with pipeline.reader() as session:
                rows = await DeliveryRepo(session).orphans(after_id)
            if not rows:
                return recovered
            after_id = rows[-1].id
            others = {r.owner for r in rows if r.owner is not None and r.owner != me}
            dead = await pipeline.liveness.dead(others)
            for row in rows:
                gone = pipeline.orphaned(row.owner, row.dedup_key) or row.owner in dead
                if gone and await self._recover(row.dedup_key, row.owner):
                    recovered += 1

    async def _recover(self, key: str, old: str | None) -> bool:
        pipeline = self.pipeline
        payload = await pipeline.adopt(key, old)
        if payload is None:
            return False  # handled here already, or another process got there first
        try:
            try:
                message = to_message(parse_xml(payload))
            except ProtocolError:
                async with pipeline.sessionmaker.begin() as session:
                    await DeliveryRepo(session).finish(
                        key,
                        owner=pipeline.liveness.instance,
                        status="failed",
                        reply="",
                        payload="",
                        now=utc(pipeline.clock),
                    )
                return False
            log.warning("recovering delivery key=%s msg_type=%s", key[:12], message.msg_type)
            await pipeline.resume(message, key, payload)
            return True
        finally:
            pipeline.active.discard(key)

    async def prune(self) -> None:
        """Forget replies once WeChat's retries are over, and nonces past the window."""
        settings = self.pipeline.settings
        now = utc(self.pipeline.clock)
        async with self.pipeline.sessionmaker.begin() as session:
            await DeliveryRepo(session).prune(
                replies_before=now - timedelta(seconds=settings.reply_retention),
                nonces_before=now - timedelta(seconds=2 * settings.wechat_max_skew + 60),
            )

    async def run(self) -> None:
        """Sweep now, then every ``sweep_interval`` seconds, for as long as the process lives."""
        while True:
            try:
                await self.pipeline.liveness.ensure()
                await self.sweep()
                await self.prune()
            except Exception as exc:
                loggers.safe_exception(log, "sweep failed", exc=exc)
            await asyncio.sleep(self.pipeline.settings.sweep_interval)

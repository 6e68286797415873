"""Customer-service pushes through a ledger: record in the update's transaction, send after.

A push is a row first, so a crash between commit and send loses nothing, and a push that
WeChat refuses because the 48-hour window is closed is *held*: the user sees it the next time
they write (see ``handlers.common``'s held-message middleware).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import loggers
from bot.errors import OutsideWindow, QuotaExceeded, WeChatAPIError
from bot.protocol import clip
from storage.clock import Clock, utc
from storage.outbox import OutboxRepo

if TYPE_CHECKING:
    from bot.api import WeChatAPI


class Outbox:
    """The pushes one update asked for; the pipeline flushes them once the update committed."""

    def __init__(self, session: AsyncSession, now: datetime) -> None:
        self._repo = OutboxRepo(session)
        self._now = now
        self.ids: list[int] = []

    async def text(
        self, openid: str, content: str, *, template: dict[str, Any] | None = None
    ) -> None:
        """Push ``content``; ``template`` (``{"template_id", "data"}``) is the fallback used
        when the customer-service window is closed, for service notices only."""
        payload: dict[str, Any] = {"content": clip(content)}
        if template:
            payload["template"] = template
        row = await self._repo.add(openid, kind="text", payload=payload, now=self._now)
        self.ids.append(row.id)


class Pusher:
    def __init__(
        self,
        *,
        api: WeChatAPI,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Clock,
        log_salt: str,
    ) -> None:
        self.api = api
        self.sessionmaker = sessionmaker
        self.clock = clock
        self.log_salt = log_salt

    async def send_text(self, openid: str, content: str) -> str:
        """Record and send one text now; returns the final status."""
        async with self.sessionmaker.begin() as session:
            outbox = Outbox(session, utc(self.clock))
            await outbox.text(openid, content)
        statuses = await self.flush(outbox.ids)
        return statuses[0]

    async def flush(self, ids: list[int]) -> list[str]:
        if not ids:
            return []
        async with self.sessionmaker() as session:
            rows = await OutboxRepo(session).pending(ids)
        statuses = []
        for row in rows:
            status, errcode = "sent", None
            if row.openid is None:  # the user left before it went out
                statuses.append("dropped")
                await self._mark(row.id, "dropped", None)
                continue
            try:
                await self.api.send_custom(
                    {
                        "touser": row.openid,
                        "msgtype": "text",
                        "text": {"content": row.payload["content"]},
                    }
                )
            except (OutsideWindow, QuotaExceeded) as exc:
                status, errcode = "held", exc.errcode
                await self._template(row.openid, row.payload.get("template"))
            except WeChatAPIError as exc:
                status, errcode = "failed", exc.errcode
            loggers.push.info(
                "push id=%s user=%s status=%s errcode=%s",
                row.id,
                loggers.hash_openid(row.openid, self.log_salt),
                status,
                errcode,
            )
            if status == "held" and errcode is not None:
                async with self.sessionmaker.begin() as session:
                    await OutboxRepo(session).hold(row.id, openid=row.openid, errcode=errcode)
            else:
                await self._mark(row.id, status, errcode)
            statuses.append(status)
        return statuses

    async def resend_stale(self, *, age: timedelta = timedelta(minutes=1)) -> list[str]:
        """Send what a stopped process recorded but never sent, and retry transient failures
        once more. Run from the housekeeping loop; a push is never sent twice at once because
        ``flush`` only sends rows still pending."""
        async with self.sessionmaker.begin() as session:
            repo = OutboxRepo(session)
            ids = await repo.stale(utc(self.clock) - age)
            await repo.retry(ids)
        return await self.flush(ids)

    async def _template(self, openid: str, template: dict[str, Any] | None) -> None:
        """Window closed: a template message tells them there is news; the full text stays
        held for their next message."""
        if not template:
            return
        try:
            await self.api.send_template(openid, template["template_id"], template["data"])
        except WeChatAPIError as exc:
            loggers.push.warning("template fallback failed errcode=%s", exc.errcode)

    async def _mark(self, message_id: int, status: str, errcode: int | None) -> None:
        async with self.sessionmaker.begin() as session:
            sent_at = utc(self.clock) if status == "sent" else None
            await OutboxRepo(session).mark(message_id, status=status, errcode=errcode, now=sent_at)

"""Customer-service pushes through a ledger: record in the update's transaction, send after.

A push is a row first, so a crash between commit and send loses nothing, and a push that
WeChat refuses because the 48-hour window is closed is *held*: the user sees it the next time
they write (see ``handlers.common``'s held-message middleware).

Fresh pushes are sent right after their update commits (``Pusher.flush``). What fails for a
passing reason (WeChat busy, no answer, a rate limit) is tried again by ``Pusher.retry_due``
after 30 s, 60 s, 120 s… up to a cap, and given up (``dead``) after a number of attempts; what
fails for good (unknown or departed user, a malformed message) is dead at once. Every send
first claims its row (see ``OutboxRepo.claim``), so no two processes send one push at once.

A row's ``kind`` says where it goes: ``text`` to its ``openid`` by the customer-service API
(no openid left: the user unfollowed, the push is dropped); ``robot`` to the duty group's
WeCom robot (no openid ever; the robot's key is configuration, never stored in the row).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import loggers, wecom
from bot.api import Media
from bot.errors import OutsideWindow, SystemBusy, TokenRejected, TransportError, WeChatAPIError
from bot.protocol import clip
from bot.scheduler import Every, Job
from storage.clock import Clock, utc
from storage.models import OutboundMessage, TipMedia
from storage.outbox import OutboxRepo

if TYPE_CHECKING:
    from bot.api import WeChatAPI
    from bot.keys import Keys
    from bot.metrics import Metrics
    from bot.timetable import Context
    from bot.wecom import Robot

Outcome = Literal["sent", "held", "failed", "dead", "dropped"]

#: Errcodes that mean "not now" rather than "never": too many calls this minute (45011).
#: WeChat busy (-1), no usable answer (-2) and a token still rejected after the refresh are
#: typed errors, also transient.
TRANSIENT_ERRCODES = frozenset({-1, -2, 45011})
#: The window is closed (45015), its five messages are used up (45047, until the user writes
#: again) or the day's quota is spent (45009): kept for the user's next message, with a
#: template notice when the push has one.
HOLD_ERRCODES = frozenset({45015, 45047, 45009})

#: Row kinds: a customer-service text to ``openid``, or a text to the duty group's robot.
TEXT, ROBOT, IMAGE, LINK = "text", "robot", "image", "link"


def outcome_of(error: WeChatAPIError) -> Outcome:
    """What a refused push becomes: held, failed (tried again later) or dead."""
    if isinstance(error, OutsideWindow) or error.errcode in HOLD_ERRCODES:
        return "held"
    if isinstance(error, SystemBusy | TransportError | TokenRejected):
        return "failed"
    return "failed" if error.errcode in TRANSIENT_ERRCODES else "dead"


def seal_payload(keys: Keys, payload: dict[str, Any]) -> dict[str, Any]:
    """A push's text is sealed while it waits: a held status notice names a tip code and
    stays beside the openid until the user writes again, possibly for days."""
    return {"sealed": keys.seal(json.dumps(payload, ensure_ascii=False))}


def open_payload(keys: Keys, stored: dict[str, Any]) -> dict[str, Any]:
    if "sealed" not in stored:
        return stored  # emptied ({}) once sent, shown or given up on
    opened = keys.unseal(str(stored["sealed"]))
    return dict(json.loads(opened)) if opened else {}


class Outbox:
    """The pushes one update asked for; the pipeline flushes them once the update committed."""

    def __init__(self, session: AsyncSession, now: datetime, keys: Keys) -> None:
        self._repo = OutboxRepo(session)
        self._now = now
        self._keys = keys
        self.ids: list[int] = []

    async def text(
        self, openid: str, content: str, *, template: dict[str, Any] | None = None
    ) -> None:
        """Push ``content``; ``template`` (``{"template_id", "data"}``) is the fallback used
        when the customer-service window is closed, for service notices only."""
        payload: dict[str, Any] = {"content": clip(content)}
        if template:
            payload["template"] = template
        await self._add(openid, TEXT, payload)

    async def image(self, openid: str, tip_media_id: int) -> None:
        """Push a stored photo (``tip_media``); uploaded to WeChat when it is sent."""
        await self._add(openid, IMAGE, {"tip_media": tip_media_id})

    async def link(self, openid: str, *, title: str, description: str, url: str) -> None:
        """Push a card that opens ``url`` (a map of a tip's place, say)."""
        await self._add(openid, LINK, {"title": title, "description": description, "url": url})

    async def robot(self, content: str) -> None:
        """Post ``content`` to the duty group's WeCom robot (see ``bot.wecom``)."""
        await self._add(None, ROBOT, {"content": content})  # cut to its limit when sent

    async def _add(self, openid: str | None, kind: str, payload: dict[str, Any]) -> None:
        sealed = seal_payload(self._keys, payload)
        row = await self._repo.add(openid, kind=kind, payload=sealed, now=self._now)
        self.ids.append(row.id)


class Pusher:
    def __init__(
        self,
        *,
        api: WeChatAPI,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Clock,
        keys: Keys,
        log_salt: str,
        metrics: Metrics | None = None,
        robot: Robot | None = None,
        retry_base: float = 30.0,
        retry_cap: float = 3600.0,
        max_attempts: int = 8,
        lease: timedelta = timedelta(minutes=5),
    ) -> None:
        self.api = api
        self.sessionmaker = sessionmaker
        self.clock = clock
        self.keys = keys
        self.log_salt = log_salt
        self.metrics = metrics
        self.robot = robot
        self.retry_base = retry_base
        self.retry_cap = retry_cap
        self.max_attempts = max_attempts
        #: How long a claim keeps others off a row: longer than one send with the gateway's
        #: own retries and a token fetch; a process that dies mid-send frees it after this.
        self.lease = lease

    def backoff(self, attempts: int) -> timedelta:
        """Delay after the ``attempts``-th failed try: base, 2·base, 4·base… up to the cap."""
        return timedelta(seconds=min(self.retry_cap, self.retry_base * 2 ** (attempts - 1)))

    async def send_text(self, openid: str, content: str) -> str:
        """Record and send one text now; returns its status after this try."""
        async with self.sessionmaker.begin() as session:
            outbox = Outbox(session, utc(self.clock), self.keys)
            await outbox.text(openid, content)
        statuses = await self.flush(outbox.ids)
        return statuses[0] if statuses else "pending"  # another process took it

    async def flush(self, ids: list[int]) -> list[str]:
        """Send pushes an update just committed, whatever the retry queue holds; rows another
        process already took are left out."""
        statuses: list[str] = []
        for message_id in ids:
            status = await self._claim_and_send(message_id)
            if status is not None:
                statuses.append(status)
        return statuses

    async def retry_due(self, *, batch: int = 50) -> list[str]:
        """Send every live push whose time has come: failures whose delay ran out and pushes a
        stopped process recorded but never sent. Takes them ``batch`` at a time, soonest due
        first, until none is due. Run every minute by the scheduler (``JOBS`` below)."""
        statuses: list[str] = []
        while True:
            async with self.sessionmaker() as session:
                ids = await OutboxRepo(session).due(utc(self.clock), limit=batch)
            if not ids:
                return statuses
            # Picked by due time, sent in the order recorded: a user's pushes stay in order.
            for message_id in sorted(ids):
                status = await self._claim_and_send(message_id)
                if status is not None:
                    statuses.append(status)

    #: The old name.
    resend_stale = retry_due

    async def _claim_and_send(self, message_id: int) -> Outcome | None:
        now = utc(self.clock)
        async with self.sessionmaker.begin() as session:
            row = await OutboxRepo(session).claim(message_id, now=now, until=now + self.lease)
        return None if row is None else await self._send(row)

    async def _send(self, row: OutboundMessage) -> Outcome:
        """One try of a claimed row, then its outcome recorded."""
        openid = row.openid
        payload = open_payload(self.keys, row.payload)
        status, errcode = await self._try(row, payload)
        if status == "failed" and row.attempts >= self.max_attempts:
            status = "dead"
        user = loggers.hash_openid(openid, self.log_salt)
        loggers.push.info(
            "push id=%s kind=%s user=%s status=%s errcode=%s attempt=%s",
            row.id,
            row.kind,
            user,
            status,
            errcode,
            row.attempts,
        )
        if status == "held" and openid is not None:
            await self._template(openid, payload.get("template"))
        now = utc(self.clock)
        async with self.sessionmaker.begin() as session:
            repo = OutboxRepo(session)
            if status == "held" and openid is not None and errcode is not None:
                kept = await repo.hold(
                    row.id, openid=openid, errcode=errcode, attempt=row.attempts
                )
            elif status == "failed":
                retry_at = now + self.backoff(row.attempts)
                kept = await repo.fail(
                    row.id, errcode=errcode, attempt=row.attempts, retry_at=retry_at
                )
            else:
                sent_at = now if status == "sent" else None
                kept = await repo.mark(
                    row.id, status=status, errcode=errcode, now=sent_at, attempt=row.attempts
                )
        if not kept:
            # The claim ran out mid-send and another process took the row: its outcome counts.
            loggers.push.warning("push id=%s outcome not recorded: row taken over", row.id)
        if status == "dead":
            loggers.push.warning(
                "push id=%s kind=%s user=%s dead after %s attempt(s) errcode=%s",
                row.id,
                row.kind,
                user,
                row.attempts,
                errcode,
            )
        if self.metrics is not None:
            self.metrics.pushes.labels(status=status).inc()
            if status == "dead":
                self.metrics.pushes_dead.inc()
        return status

    async def _try(
        self, row: OutboundMessage, payload: dict[str, Any]
    ) -> tuple[Outcome, int | None]:
        """Send a row where its kind says; the outcome before the attempt count is applied."""
        try:
            if row.kind == ROBOT:
                if self.robot is None:  # the key was removed after the row was recorded
                    loggers.push.warning("push id=%s: no duty robot configured", row.id)
                    return "dead", None
                await self.robot.send_text(payload["content"])
            elif row.openid is None:  # the user left before it went out
                return "dropped", None
            elif row.kind == IMAGE:
                media = await self._tip_media(int(payload["tip_media"]))
                if media is None:  # the tip (and its photos) is gone
                    return "dropped", None
                await self.api.send_image(row.openid, await self.api.upload_media(media))
            elif row.kind == LINK:
                await self.api.send_link(
                    row.openid,
                    title=payload["title"],
                    description=payload["description"],
                    url=payload["url"],
                )
            else:
                await self.api.send_text(row.openid, payload["content"])
        except WeChatAPIError as exc:
            if row.kind == ROBOT:  # no window and no template: a robot retries or gives up
                return ("failed" if wecom.transient(exc) else "dead"), exc.errcode
            return outcome_of(exc), exc.errcode
        except Exception as exc:
            # A bug or a broken row must not stop the pass: retried, then given up.
            loggers.push.error("push id=%s raised %s", row.id, type(exc).__name__)
            return "failed", None
        return "sent", None

    async def _tip_media(self, media_id: int) -> Media | None:
        async with self.sessionmaker() as session:
            row = await session.get(TipMedia, media_id)
        return None if row is None else Media(row.data, row.content_type)

    async def _template(self, openid: str, template: dict[str, Any] | None) -> None:
        """Window closed: a template message tells them there is news; the full text stays
        held for their next message."""
        if not template:
            return
        try:
            await self.api.send_template(openid, template["template_id"], template["data"])
        except WeChatAPIError as exc:
            loggers.push.warning("template fallback failed errcode=%s", exc.errcode)


async def _retry(context: Context) -> None:
    await context.pusher.retry_due()


#: The push ledger's timed work (``bot.timetable`` composes it).
JOBS: tuple[Job[Context], ...] = (Job("retry-pushes", Every(60), _retry),)

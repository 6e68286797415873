"""Tip operations shared by the resident flows and (later) the officers' console.

Everything here runs inside the update's transaction: a tip, its code, its media, its audit
rows and the reporter's notice are committed together or not at all.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.api import Media
from bot.dialog import DialogContext
from bot.i18n import _, speaking
from bot.keys import Keys
from bot.message import Message
from bot.middlewares import Next
from bot.push import Outbox
from bot.router import Data, Result
from handlers.tips.index import ReporterIndex
from handlers.tips.notices import load_notices
from handlers.tips.photos import NotAnImage, clean_photo
from handlers.tips.rules import TipRules
from storage.clock import china_day_start
from storage.models import Tip, TipEvent, TipMedia, User
from storage.tips import OPEN_STATUSES, MediaRepo, TipRepo

# No 0/O, 1/I/L: codes are read aloud and typed on phones.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8

STATUS_NAMES = {
    "submitted": "已提交",
    "accepted": "已受理",
    "in_progress": "处理中",
    "resolved": "已办结",
    "rejected": "不予受理",
    "duplicate": "重复线索",
}
TRANSITIONS = {
    "submitted": {"accepted", "rejected", "duplicate", "in_progress", "resolved"},
    "accepted": {"in_progress", "resolved", "rejected", "duplicate"},
    "in_progress": {"resolved", "rejected"},
    "resolved": set(),
    "rejected": set(),
    "duplicate": set(),
}
OPEN = frozenset(OPEN_STATUSES)
RATINGS = {"1": "满意", "2": "基本满意", "3": "不满意"}
#: The reporter's notice per state: the station's words, read once at start-up.
NOTICES = load_notices(set(STATUS_NAMES) - {"submitted"})
#: Further emergency messages within this time fold into the open emergency tip.
EMERGENCY_FOLD = timedelta(minutes=30)


class TransitionError(ValueError):
    pass


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


@dataclass
class Draft:
    """What the guided report has collected so far (kept in the dialog data)."""

    category: str
    description: str = ""
    voice: bool = False
    lat: float | None = None
    lng: float | None = None
    address: str | None = None
    anonymous: bool = False
    name: str | None = None
    phone: str | None = None
    fraud: dict[str, str] | None = None
    media_ids: tuple[int, ...] = ()


class TipService:
    def __init__(
        self,
        session: AsyncSession,
        *,
        keys: Keys,
        rules: TipRules,
        now: datetime,
        user: User | None = None,
        outbox: Outbox | None = None,
        template_id: str = "",
    ) -> None:
        self.session = session
        self.template_id = template_id
        self.repo = TipRepo(session)
        self.media = MediaRepo(session)
        self.keys = keys
        #: The asker's own tips (sealed on their profile).
        self.mine = ReporterIndex(user, keys)
        self.rules = rules
        self.now = now
        self.outbox = outbox

    async def _unique_code(self) -> str:
        while True:
            code = new_code()
            if not await self.repo.code_taken(code):
                return code

    def _reporter(self, openid: str, draft: Draft | None) -> dict[str, Any]:
        """Reachable through the bot (sealed openid); named only by what they chose to give."""
        named = draft is not None and not draft.anonymous
        return {
            "anonymous": not named,
            "reporter_sealed": self.keys.seal(openid),
            "reporter_name": draft.name if named and draft else None,
            "reporter_phone": draft.phone if named and draft else None,
        }

    async def _add(self, tip: Tip) -> Tip:
        await self.repo.add(tip)
        self.mine.add(tip.id)
        return tip

    async def tips_today(self, openid: str) -> int:
        return await self.repo.count_since(self.mine.ids(), china_day_start(self.now))

    async def submit(self, openid: str, draft: Draft, *, community_id: int | None) -> Tip:
        category = self.rules.category(draft.category)
        if category is None:
            msg = f"unknown category {draft.category!r}"
            raise ValueError(msg)
        repeats = 0
        if community_id is not None:
            since = self.now - timedelta(days=self.rules.repeat_window_days)
            repeats = await self.repo.count_similar(
                community_id=community_id, category=category.key, since=since
            )
        text = draft.description + " " + " ".join((draft.fraud or {}).values())
        level = self.rules.level_for(category, text, repeats=repeats, fraud_lane=bool(draft.fraud))
        tip = await self._add(
            Tip(
                code=await self._unique_code(),
                category=category.key,
                level=level,
                status="submitted",
                source="guided",
                description=draft.description,
                details={"fraud": draft.fraud} if draft.fraud else {},
                lat=draft.lat,
                lng=draft.lng,
                address=draft.address,
                community_id=community_id,
                created_at=self.now,
                updated_at=self.now,
                **self._reporter(openid, draft),
            )
        )
        await self.media.attach(draft.media_ids, tip.id)
        await self.log_event(tip, "reporter", "status", None, "submitted", None)
        await self.log_event(tip, "system", "level", None, level, f"repeats={repeats}")
        if level == "red":
            await self.repo.alert(
                tip_id=tip.id, kind="fraud" if draft.fraud else "red", now=self.now
            )
        return tip

    async def file_named(
        self, openid: str, name: str, tip: Tip, media_ids: tuple[int, ...] = ()
    ) -> Tip:
        """``tip`` from someone who reports under their name (a patrol volunteer): never
        anonymous, reachable through the bot like every reporter. Alerts are the caller's."""
        tip.code, tip.status = await self._unique_code(), "submitted"
        tip.created_at = tip.updated_at = self.now
        tip.anonymous, tip.reporter_sealed, tip.reporter_name = False, self.keys.seal(openid), name
        await self._add(tip)
        await self.media.attach(media_ids, tip.id)
        await self.log_event(tip, "reporter", "status", None, "submitted", None)
        return tip

    async def emergency(
        self, openid: str, text: str, *, community_id: int | None
    ) -> tuple[Tip, bool]:
        """Stored at once as a red tip and paged to the officers; never queued behind a form.

        Returns the tip and whether the message folded into the reporter's open emergency (a
        second "救命" adds to the first instead of paging again). The tip names nobody: an
        emergency never reveals who sent it, whatever report the sender was in the middle of.
        """
        open_tip = await self.repo.open_emergency(self.mine.ids(), self.now - EMERGENCY_FOLD)
        if open_tip is not None:
            await self.log_event(open_tip, "reporter", "supplement", None, None, text)
            open_tip.updated_at = self.now
            return open_tip, True
        tip = await self._add(
            Tip(
                code=await self._unique_code(),
                category="other",
                level="red",
                status="submitted",
                source="emergency",
                description=text,
                details={},
                community_id=community_id,
                created_at=self.now,
                updated_at=self.now,
                **self._reporter(openid, None),
            )
        )
        await self.log_event(tip, "reporter", "status", None, "submitted", "emergency words")
        await self.repo.alert(tip_id=tip.id, kind="emergency", now=self.now)
        return tip, False

    async def log_event(
        self,
        tip: Tip,
        actor: str,
        action: str,
        from_value: str | None,
        to_value: str | None,
        note: str | None,
    ) -> None:
        await self.repo.log(
            TipEvent(
                tip_id=tip.id,
                at=self.now,
                actor=actor,
                action=action,
                from_value=from_value,
                to_value=to_value,
                note=note,
            )
        )

    async def own_tip(self, code: str, openid: str) -> Tip | None:
        """The asker's tip by code; someone else's tip is as absent as a made-up code."""
        tip = await self.repo.by_code(code.upper())
        return tip if tip is not None and self.owned_by(tip) else None

    async def draft_media(self, openid: str, media: Media, kind: str) -> TipMedia:
        """Keep a photo or voice clip for the reporter's draft until the tip is confirmed."""
        return await self.media.add(
            TipMedia(
                draft_owner=openid,
                kind=kind,
                content_type=media.content_type,
                data=media.data,
                sha256=hashlib.sha256(media.data).hexdigest(),
                size=len(media.data),
                received_at=self.now,
            )
        )

    async def draft_photo(
        self, openid: str, media: Media | None, *, taken: int, problem: str | None = None
    ) -> TipMedia | str:
        """Strip and keep a photo; a string says why not (limit, lost download, not an image)."""
        if taken >= self.rules.photos_per_tip:
            return _("最多只能发 {n} 张照片，请回复「完成」继续。").format(
                n=self.rules.photos_per_tip
            )
        if problem == "too_large":
            return _("这张图片太大了（超过 10MB），请换一张或截图后发送。")
        if problem == "unreadable":
            return _("这张图片无法识别，请换一张。")
        if media is None:
            return _("照片没有收到，请重新发送。")
        if not media.prepared:  # a step without ``prepare``: clean it here
            try:
                clean = clean_photo(media.data)
            except NotAnImage:
                return _("这张图片无法识别，请换一张。")
            media = Media(clean.data, clean.content_type)
        return await self.draft_media(openid, media, "image")

    async def collect_photo(
        self,
        openid: str,
        dialog: DialogContext,
        key: str,
        media: Media | None,
        problem: str | None,
    ) -> list[int] | str:
        """A photo for the draft whose photo ids the dialog keeps under ``key``: all the ids
        with it (kept in the dialog too), or why it was not kept."""
        held = list(dialog.data.get(key, []))
        stored = await self.draft_photo(openid, media, taken=len(held), problem=problem)
        if isinstance(stored, str):
            return stored
        held.append(stored.id)
        dialog.update(**{key: held})
        return held

    def owned_by(self, tip: Tip) -> bool:
        """Whether the asker reported ``tip`` (their sealed index says so)."""
        return tip.id in self.mine.ids()

    def reporter_of(self, tip: Tip) -> str | None:
        return self.keys.unseal(tip.reporter_sealed) if tip.reporter_sealed else None

    async def supplement(
        self, tip: Tip, *, text: str = "", media_ids: tuple[int, ...] = ()
    ) -> None:
        await self.media.attach(media_ids, tip.id)
        note = text or _("补充照片 {n} 张").format(n=len(media_ids))
        await self.log_event(tip, "reporter", "supplement", None, None, note)
        tip.updated_at = self.now

    async def transition(self, tip: Tip, to: str, *, actor: str, note: str | None = None) -> None:
        """Move a tip along its lifecycle, audit it, and tell the reporter."""
        if to not in TRANSITIONS.get(tip.status, set()):
            msg = f"{tip.status} → {to} is not allowed"
            raise TransitionError(msg)
        previous, tip.status, tip.updated_at = tip.status, to, self.now
        if to == "resolved":
            tip.outcome, tip.resolved_at, tip.rating_requested = note, self.now, True
        await self.log_event(tip, actor, "status", previous, to, note)
        await self._notify(tip, note)

    async def _notify(self, tip: Tip, note: str | None) -> None:
        openid = self.reporter_of(tip)
        if openid is None or self.outbox is None:
            return
        with speaking(await self._language_of(openid)):  # the reporter's words, not the officer's
            text, template = self._notice(tip, note)
        await self.outbox.text(openid, text, template=template)

    async def _language_of(self, openid: str) -> str | None:
        user = await self.session.get(User, openid)
        return user.language if user is not None else None

    def _notice(self, tip: Tip, note: str | None) -> tuple[str, dict[str, Any] | None]:
        status = _(STATUS_NAMES[tip.status])
        text = NOTICES[tip.status].render(code=tip.code, status=status, note=note)
        if not self.template_id:
            return text, None
        template = {
            "template_id": self.template_id,
            "data": {
                "first": {"value": _("您的举报有新进展")},
                "keyword1": {"value": tip.code},
                "keyword2": {"value": status},
                "remark": {"value": _("请回复任意消息查看详情。")},
            },
        }
        return text, template

    async def relay(self, tip: Tip, text: str, *, actor: str) -> bool:
        """An officer's words to the reporter, through the bot: nobody learns who that is.
        False when the reporter can no longer be reached (they unfollowed)."""
        openid = self.reporter_of(tip)
        await self.log_event(tip, actor, "reply", None, None, text)
        if openid is None or self.outbox is None:
            return False
        with speaking(await self._language_of(openid)):
            notice = _("民警回复您的举报（编号 {code}）：\n{text}").format(
                code=tip.code, text=text
            )
        await self.outbox.text(openid, notice)
        return True

    async def rate(self, tip: Tip, rating: str) -> None:
        tip.satisfaction = rating
        await self.log_event(tip, "reporter", "rating", None, rating, None)


async def discard_drafts(data: dict[str, Any]) -> None:
    """``on_abandon`` of the tip dialogs: a cancelled report or supplement keeps no photos."""
    await MediaRepo(data["session"]).discard_drafts(data["message"].openid)


async def provide(handler: Next, message: Message, data: Data) -> Result:
    """Middleware: hand every handler of the update one ``tips`` service."""
    data["tips"] = TipService(
        data["session"],
        keys=data["keys"],
        rules=data["tip_rules"],
        now=data["now"],
        user=data.get("user"),
        outbox=data["outbox"],
        template_id=data["settings"].tip_template_id,
    )
    return await handler(message, data)

"""Photos and voice clips are downloaded only when the user's dialog step asks for them.

WeChat keeps temporary media three days, so a wanted clip is fetched at once, in the user's
turn (after their earlier messages, before their later ones) and outside any transaction. A
photo sent outside a report costs nothing: no download, nothing stored.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.api import Media, MediaKind, WeChatAPI
from bot.dialog import State, StatesGroup
from bot.errors import MediaTooLarge, WeChatAPIError
from bot.message import Message
from storage.dialogs import DialogRepo

log = logging.getLogger("pingan.media")

MEDIA_TYPES = ("image", "voice")


@dataclass(frozen=True, slots=True)
class Fetched:
    """What the handler gets: the media, or why there is none ("too_large", "failed",
    "unreadable" when its step's ``prepare`` refused it)."""

    media: Media | None = None
    problem: str | None = None


NOTHING = Fetched()


class MediaFetcher:
    def __init__(self, api: WeChatAPI, reader: async_sessionmaker[AsyncSession]) -> None:
        self.api = api
        self.reader = reader

    async def _wanted(self, message: Message) -> State | None:
        """The dialog step that wants this message's media, if one does."""
        async with self.reader() as session:
            row = await DialogRepo(session).get(message.openid)
        state = StatesGroup.lookup(row.state if row else None)
        return state if state is not None and message.msg_type in state.media else None

    async def fetch_if_wanted(self, message: Message) -> Fetched:
        if message.msg_type not in MEDIA_TYPES or not message.media_id:
            return NOTHING
        state = await self._wanted(message)
        if state is None:
            return NOTHING
        try:
            kind: MediaKind = "voice" if message.msg_type == "voice" else "image"
            media = await self.api.download_media(message.media_id, kind=kind)
        except MediaTooLarge as exc:
            log.warning("media refused: %s", exc.errmsg)
            return Fetched(problem="too_large")
        except WeChatAPIError as exc:
            log.warning("media download failed errcode=%s", exc.errcode)
            return Fetched(problem="failed")
        prepare = state.prepare.get(kind)
        if prepare is not None:
            try:  # CPU work (decoding a 40-megapixel photo): off the loop, before the batch
                media = await asyncio.to_thread(prepare, media)
            except ValueError as exc:
                log.warning("media refused: %s", type(exc).__name__)
                return Fetched(problem="unreadable")
        return Fetched(media=media)

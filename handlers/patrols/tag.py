"""The volunteers' WeChat user tag (巡防队员): their menu is a conditional menu for it.

Like the officers' tag it grants nothing: powers come from the volunteer record."""

from __future__ import annotations

from bot.api import WeChatAPI
from handlers.community import AfterCommit
from handlers.officers.tag import set_tag

PATROL_TAG = "巡防队员"


def tag_later(after_commit: AfterCommit, *, api: WeChatAPI, openid: str) -> None:
    """Once the enrolment has committed (tag calls never run inside the transaction)."""

    async def tag() -> None:
        await set_tag(api, PATROL_TAG, [openid])

    after_commit.append(tag)

"""The officers' WeChat user tag (民警): the officers' menu is a conditional menu for it.

The tag only picks the menu an account sees. Powers come from the officer record, so a tag
call that fails costs an officer the menu until the next ``pingan menu push``, never access.
"""

from __future__ import annotations

import logging

from bot.api import WeChatAPI
from bot.errors import WeChatAPIError
from handlers.community import AfterCommit, named_tag

log = logging.getLogger("pingan.officers")

OFFICER_TAG = "民警"


async def officer_tag(api: WeChatAPI) -> int:
    return await named_tag(api, OFFICER_TAG)


async def set_officer_tag(api: WeChatAPI, openids: list[str], *, untag: bool = False) -> bool:
    """Put accounts into the officers' tag (or take them out)."""
    return await set_tag(api, OFFICER_TAG, openids, untag=untag)


async def set_tag(api: WeChatAPI, name: str, openids: list[str], *, untag: bool = False) -> bool:
    """Put accounts into a role's tag (or take them out); False, logged, when WeChat
    refused: best effort, as a role's tag only picks its menu and grants nothing."""
    try:
        await api.tag_users(await named_tag(api, name), openids, untag=untag)
    except WeChatAPIError as exc:
        log.warning("%s %s failed errcode=%s", name, "untag" if untag else "tag", exc.errcode)
        return False
    return True


def tag_later(after_commit: AfterCommit, *, api: WeChatAPI, openid: str) -> None:
    """Once the binding has committed (tag calls never run inside the transaction)."""

    async def tag() -> None:
        await set_officer_tag(api, [openid])

    after_commit.append(tag)

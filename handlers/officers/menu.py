"""Clicks on the officers' menu (``menu.yaml`` here): each does what its typed command does.

A click is routed as the text of its command through the officers' routers, so it meets the
same ``OfficerOnly`` check and the same refusal: a forged click from a resident is refused as
the typed command would be.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from bot.filters import MenuKey
from bot.message import Message
from bot.router import Result, Router, SkipHandler, Unhandled
from handlers.menu import load_menu
from handlers.officers.access import refuse

router = Router("officer-menu")

OFFICER_MENU_FILE = Path(__file__).resolve().parent / "menu.yaml"

#: Click key → the command an officer would type.
COMMANDS = {
    "OFFICER_NEW": "新线索",
    "OFFICER_RED": "红色线索",
    "OFFICER_MINE": "我的线索",
    "OFFICER_HANDOFFS": "待答复",
    "OFFICER_STATS": "本周统计",
    "OFFICER_HELP": "民警帮助",
}


def load_officer_menu() -> dict[str, Any]:
    return load_menu(OFFICER_MENU_FILE)


def as_typed(message: Message, command: str) -> Message:
    """The click as the text message that types its command."""
    return dataclasses.replace(message, msg_type="text", content=command, event=None, event_key="")


@router.message(MenuKey(*COMMANDS))
async def click(message: Message, **data: Any) -> Result:
    # Imported here: feature.ROUTERS lists this router too.
    from handlers.officers.feature import ROUTERS

    typed = as_typed(message, COMMANDS[message.event_key])
    for officers in ROUTERS:
        result = await officers.propagate(typed, data)
        if not isinstance(result, Unhandled):
            return result
    if data.get("officer") is None:  # e.g. 我的线索, which is a resident's word too
        return await refuse(message)
    raise SkipHandler

"""Which tip an officer is looking at, so that a phone needs little typing.

After a list, a number opens that line's tip; after a tip is opened, its commands work without
the code (`受理`, `回复 …`, `办结 …`). With the code they work anywhere.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from bot.dialog import DialogContext, State, StatesGroup
from bot.filters import Regex, StateIs
from bot.message import Message
from bot.router import Data, FilterResult, HandlerFunc, Router
from handlers.officers.access import OfficerOnly, refuse

#: A tip's tracking code (see ``handlers.tips.service.CODE_ALPHABET``), typed in any case.
CODE = r"(?P<code>[A-Za-z0-9]{8})"
#: The rest of the message, lines included: an outcome, a reason, a reply, a note.
TEXT = r"\s+(?P<text>\S.*)"


class Browsing(StatesGroup):
    """An officer's last list (``codes``) and the tip open now (``code``)."""

    tips = State()


def remember_list(dialog: DialogContext, codes: Sequence[str]) -> None:
    dialog.clear()
    if codes:
        dialog.set_state(Browsing.tips)
        dialog.update(codes=list(codes))


def remember_tip(dialog: DialogContext, code: str) -> None:
    if dialog.state != Browsing.tips.name:
        dialog.clear()
        dialog.set_state(Browsing.tips)
    dialog.update(code=code)


def case_code(message: Message, data: Data) -> FilterResult:
    """Filter: ``code`` is the one typed, else the open tip's (None when there is neither)."""
    match: re.Match[str] = data["match"]
    typed = match.groupdict().get("code")
    dialog: DialogContext | None = data.get("dialog")
    current = dialog.data.get("code") if dialog is not None else None
    return {"code": (typed or current or "").upper() or None}


def command(
    router: Router, word: str, rest: str = "", *, lines: bool = False
) -> Callable[[HandlerFunc], HandlerFunc]:
    """Register a tip command as ``word CODE rest`` anywhere and as ``word rest`` for the open
    tip; everyone but officers typing the coded form is refused (and it is logged)."""
    flags = re.DOTALL if lines else 0
    coded = Regex(rf"^{word}\s*{CODE}{rest}$", flags)
    bare = Regex(rf"^{word}{rest}$", flags)

    def register(handler: HandlerFunc) -> HandlerFunc:
        router.message(coded, OfficerOnly(), case_code)(handler)
        router.message(bare, StateIs(Browsing.tips), OfficerOnly(), case_code)(handler)
        router.message(coded)(refuse)
        return handler

    return register

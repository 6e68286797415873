"""Switching the language the bot speaks to a user (语言 / Language / ᠬᠡᠯᠡ)."""

from __future__ import annotations

from bot.dialog import DialogContext, State, StatesGroup
from bot.filters import Keyword, MenuKey, MsgType, StateIs
from bot.i18n import _, available_languages, current_language, language_name
from bot.message import Message
from bot.router import Router, SkipHandler
from storage.models import User

router = Router("language")


def _listing() -> str:
    lines = [_("请选择语言，回复数字：")]
    lines += [f"{i}. {language_name(c)}" for i, c in enumerate(available_languages(), start=1)]
    return "\n".join(lines)


class Choosing(StatesGroup):
    language = State(lambda d: _listing())


@router.message(MenuKey("LANGUAGE"))
@router.message(Keyword("语言", "language", "ᠬᠡᠯᠡ", "语言设置"))
async def languages(dialog: DialogContext) -> str:
    dialog.clear()
    dialog.set_state(Choosing.language)
    return _listing()


@router.message(StateIs(Choosing.language), MsgType("text"))
async def choose_language(message: Message, dialog: DialogContext, user: User) -> str:
    codes = available_languages()
    names = [language_name(c) for c in codes]
    if message.text.isdigit() and 1 <= int(message.text) <= len(codes):
        code = codes[int(message.text) - 1]
    elif message.text in names:
        code = codes[names.index(message.text)]
    else:
        raise SkipHandler
    dialog.clear()
    user.language = code
    current_language.set(code)  # answer in the new language already (reset after the update)
    return _("已切换为中文。")

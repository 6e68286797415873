"""User-facing text goes through gettext; the message ids are the zh_CN source strings.

The language is per update (a context variable set from the user's profile), so handlers
simply write ``_("…")``. Catalogs live in ``bot/locales/<lang>/LC_MESSAGES/pingan.mo``.
"""

from __future__ import annotations

import gettext
from contextvars import ContextVar
from functools import cache
from pathlib import Path

DEFAULT_LANGUAGE = "zh_CN"
LOCALES = Path(__file__).resolve().parent / "locales"

current_language: ContextVar[str] = ContextVar("current_language", default=DEFAULT_LANGUAGE)


@cache
def translations(language: str) -> gettext.NullTranslations:
    return gettext.translation("pingan", LOCALES, languages=[language], fallback=True)


def _(message: str) -> str:
    return translations(current_language.get()).gettext(message)

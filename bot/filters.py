"""Filters for ``Router.message``: role, dialog state, message type, event, menu key, words."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.dialog import DialogContext, State
from bot.message import Message
from bot.router import Data, FilterResult


def _normalise(text: str) -> str:
    return text.strip().casefold()


class Keyword:
    """The whole text is one of the words (case-insensitive for Latin letters)."""

    def __init__(self, *words: str) -> None:
        self.words = frozenset(_normalise(w) for w in words)

    def __call__(self, message: Message, data: Data) -> bool:
        return message.folded in self.words


class Regex:
    """The text matches; the handler may take ``match``."""

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.pattern = re.compile(pattern, flags)

    def __call__(self, message: Message, data: Data) -> FilterResult:
        match = self.pattern.search(message.text)
        return {"match": match} if match else False


@dataclass(frozen=True)
class MsgType:
    types: frozenset[str]

    def __init__(self, *types: str) -> None:
        object.__setattr__(self, "types", frozenset(types))

    def __call__(self, message: Message, data: Data) -> bool:
        return message.msg_type in self.types


class Event:
    def __init__(self, *events: str) -> None:
        self.events = frozenset(e.lower() for e in events)

    def __call__(self, message: Message, data: Data) -> bool:
        return message.is_event and message.event in self.events


class MenuKey:
    """A click on a custom-menu button with one of these keys."""

    def __init__(self, *keys: str) -> None:
        self.keys = frozenset(keys)

    def __call__(self, message: Message, data: Data) -> bool:
        return message.event == "click" and message.event_key in self.keys


class StateIs:
    """The user's dialog is in one of the states; ``StateIs(None)`` means no dialog."""

    def __init__(self, *states: State | None) -> None:
        self.names = frozenset(s.name if s else None for s in states)
        self.state_names = self.names  # ``Router`` reads this to skip the call

    def __call__(self, message: Message, data: Data) -> bool:
        dialog: DialogContext = data["dialog"]
        return dialog.state in self.names


class InGroup:
    """The user's dialog is in any state of a ``StatesGroup``."""

    def __init__(self, group: type) -> None:
        self.prefix = f"{group.__name__}:"

    def __call__(self, message: Message, data: Data) -> bool:
        dialog: DialogContext = data["dialog"]
        return bool(dialog.state and dialog.state.startswith(self.prefix))


class Role:
    def __init__(self, *roles: str) -> None:
        self.roles = frozenset(roles)

    def __call__(self, message: Message, data: Data) -> bool:
        return getattr(data.get("user"), "role", None) in self.roles

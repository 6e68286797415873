"""Routers of handlers with filters, after aiogram 3's design.

A handler is a plain ``async def`` whose parameters are named after keys of the update's
data (``message``, ``user``, ``dialog``, ``session``, ``now``…): it gets only what it asks for.
A filter is a callable of ``(message, data)`` returning a bool, or a dict whose items are
added to the data for the handler (a regex filter hands over its ``match``).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any, Final

from bot.message import Message

Result = str | None
Data = dict[str, Any]
FilterResult = bool | dict[str, Any]
Filter = Callable[[Message, Data], FilterResult | Awaitable[FilterResult]]
HandlerFunc = Callable[..., Awaitable[Result]]


class Unhandled:
    def __repr__(self) -> str:
        return "UNHANDLED"


#: What a router returns when no handler of its own or of its children took the message.
UNHANDLED: Final = Unhandled()


class SkipHandler(Exception):
    """Raised by a handler to pass the message on to the next matching handler."""


class Handler:
    def __init__(self, callback: HandlerFunc, filters: tuple[Filter, ...]) -> None:
        self.callback = callback
        self.filters = filters
        #: The dialog states a ``StateIs`` filter allows (None: any), read without a call:
        #: most handlers belong to one step of one dialog, and a router looks at every one.
        self.states: frozenset[str | None] | None = None
        for check in filters:
            names = getattr(check, "state_names", None)
            if names is not None:
                self.states = names if self.states is None else self.states & names
        params = inspect.signature(callback).parameters.values()
        self.wants_all = any(p.kind is p.VAR_KEYWORD for p in params)
        self.params = [p.name for p in params if p.kind is not p.VAR_KEYWORD]

    async def check(self, message: Message, data: Data) -> Data | None:
        """Run the filters; the extra data they produced, or None when one refused."""
        extra: Data | None = None  # most filters add nothing: no copy of the data for them
        for check in self.filters:
            verdict = check(message, data if extra is None else {**data, **extra})
            if type(verdict) is not bool and inspect.isawaitable(verdict):
                verdict = await verdict
            if not verdict:
                return None
            if isinstance(verdict, dict):
                extra = {**(extra or {}), **verdict}
        return extra or {}

    async def call(self, data: Data) -> Result:
        kwargs = data if self.wants_all else {n: data[n] for n in self.params if n in data}
        return await self.callback(**kwargs)


class Router:
    def __init__(self, name: str) -> None:
        self.name = name
        self.handlers: list[Handler] = []
        self.children: list[Router] = []

    def __repr__(self) -> str:
        return f"<Router {self.name}>"

    def message(self, *filters: Filter) -> Callable[[HandlerFunc], HandlerFunc]:
        """Register a handler for messages and events that pass every filter."""

        def register(callback: HandlerFunc) -> HandlerFunc:
            self.handlers.append(Handler(callback, filters))
            return callback

        return register

    def include(self, *routers: Router) -> None:
        for router in routers:
            if router is self or router in self.children:
                msg = f"{router!r} is already part of {self!r}"
                raise ValueError(msg)
            self.children.append(router)

    async def propagate(self, message: Message, data: Data) -> Result | Unhandled:
        """Offer the message to this router's handlers, then to its children, in order."""
        dialog = data.get("dialog")
        for handler in self.handlers:
            # The state is read each time: a handler that skips may have moved it.
            if (
                handler.states is not None
                and dialog is not None
                and dialog.state not in handler.states
            ):
                continue
            extra = await handler.check(message, data)
            if extra is None:
                continue
            try:
                return await handler.call({**data, **extra, "message": message})
            except SkipHandler:
                continue
        for child in self.children:
            result = await child.propagate(message, data)
            if result is not UNHANDLED:
                return result
        return UNHANDLED

"""Dialog state in the spirit of aiogram's FSM: states declared on a class, a small facade.

States are stored as ``"Group:name"`` strings. Each state may carry a prompt, so that
``返回`` (back) can step to the previous state and ask its question again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, ClassVar

#: A prompt is text, or a function of the dialog data that builds it (e.g. a summary).
Prompt = str | Callable[[dict[str, Any]], str]
#: Makes downloaded media fit to keep (a photo re-encoded without EXIF, say); raises
#: ValueError for media that cannot be (not an image). It runs in a worker thread before the
#: handler's transaction, so that a big photo holds up no one else's messages.
Prepare = Callable[[Any], Any]


class State:
    def __init__(
        self,
        prompt: Prompt | None = None,
        *,
        media: tuple[str, ...] = (),
        takes_text: bool = False,
        prepare: Mapping[str, Prepare] | None = None,
        idle: timedelta | None = None,
    ) -> None:
        self.prompt = prompt
        #: Message types whose media this step uses ("image", "voice"): only these are
        #: downloaded (see ``bot.media``).
        self.media = media
        #: Per media kind, what the download goes through before the handler sees it.
        self.prepare: Mapping[str, Prepare] = prepare or {}
        #: The step's answer is any text (a question, a description): nothing else reads it.
        self.takes_text = takes_text
        #: How long the step may wait for the user; None: the configured dialog timeout.
        #: (A patrol shift waits hours: it has its own limit.)
        self.idle = idle
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = f"{owner.__name__}:{name}"

    def prompt_text(self, data: dict[str, Any]) -> str | None:
        if self.prompt is None:
            return None
        return self.prompt(data) if callable(self.prompt) else self.prompt

    def __repr__(self) -> str:
        return f"<State {self.name}>"


#: Called with the update's data when a dialog of the group is abandoned (cancel, timeout).
Cleanup = Callable[[dict[str, Any]], Awaitable[None]]


class StatesGroup:
    """Subclass and declare ``State()`` attributes; every group registers itself by name.

    A group may set ``on_abandon`` to remove what its dialog stored along the way (draft
    photos of a report, say), so that a cancelled dialog leaves nothing half-written.
    """

    registry: ClassVar[dict[str, State]] = {}
    groups: ClassVar[dict[str, type[StatesGroup]]] = {}
    on_abandon: ClassVar[Cleanup | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        StatesGroup.groups[cls.__name__] = cls
        for value in vars(cls).values():
            if isinstance(value, State):
                StatesGroup.registry[value.name] = value

    @staticmethod
    def lookup(name: str | None) -> State | None:
        return StatesGroup.registry.get(name) if name else None

    @staticmethod
    async def abandon(state: str | None, data: dict[str, Any]) -> None:
        group = StatesGroup.groups.get(state.split(":", 1)[0]) if state else None
        if group is not None and group.on_abandon is not None:
            await group.on_abandon(data)


@dataclass
class DialogContext:
    """A user's dialog, loaded at the start of an update and saved with its effects."""

    state: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    history: list[str] = field(default_factory=list)
    changed: bool = False

    def set_state(self, state: State | None, *, remember: bool = True) -> None:
        """Enter ``state``; with ``remember`` the current one is kept for ``返回``."""
        new = state.name if state else None
        if remember and self.state and self.state != new:
            self.history.append(self.state)
        if new is None:
            self.history.clear()
        self.state = new
        self.changed = True

    def update(self, **values: Any) -> None:
        self.data.update(values)
        self.changed = True

    def clear(self) -> None:
        self.state = None
        self.data = {}
        self.history = []
        self.changed = True

    def back(self) -> State | None:
        """Step back one state; None when there is nothing to go back to (the dialog ends)."""
        self.changed = True
        while self.history:
            previous = StatesGroup.lookup(self.history.pop())
            if previous is not None:
                self.state = previous.name
                return previous
        self.clear()
        return None

    @property
    def current(self) -> State | None:
        return StatesGroup.lookup(self.state)

"""Routers, filters and dialog state without HTTP or a store."""

from __future__ import annotations

from typing import Any

import pytest

from bot.dialog import DialogContext, State, StatesGroup
from bot.filters import Event, InGroup, Keyword, MenuKey, MsgType, Regex, Role, StateIs
from bot.message import Message
from bot.router import UNHANDLED, Router, SkipHandler


class Form(StatesGroup):
    name = State("您叫什么名字？")
    age = State(lambda data: f"{data['name']}，您多大了？")


def text(content: str) -> Message:
    return Message(
        openid="o1", account="gh", create_time=1, msg_type="text", msg_id="1", content=content
    )


def click(key: str) -> Message:
    return Message(
        openid="o1", account="gh", create_time=1, msg_type="event", event="click", event_key=key
    )


class User:
    role = "officer"


def data(**extra: Any) -> dict[str, Any]:
    return {"dialog": DialogContext(), "user": User(), **extra}


async def test_first_matching_handler_wins_and_children_follow() -> None:
    parent, child = Router("parent"), Router("child")

    @parent.message(Keyword("你好"))
    async def hello() -> str:
        return "parent"

    @child.message(MsgType("text"))
    async def anything(message: Message) -> str:
        return "child:" + message.text

    parent.include(child)
    assert await parent.propagate(text(" 你好 "), data()) == "parent"
    assert await parent.propagate(text("别的"), data()) == "child:别的"
    assert await parent.propagate(click("X"), data()) is UNHANDLED


async def test_skip_handler_passes_on() -> None:
    router = Router("r")

    @router.message()
    async def first() -> str:
        raise SkipHandler

    @router.message()
    async def second() -> str:
        return "second"

    assert await router.propagate(text("x"), data()) == "second"


async def test_dependency_injection_by_name_and_regex_match() -> None:
    router = Router("r")

    @router.message(Regex(r"^查询\s*(?P<code>[A-Z0-9]+)$"))
    async def lookup(match: Any, user: Any, now: int) -> str:
        return f"{match['code']}/{user.role}/{now}"

    assert await router.propagate(text("查询 AB12"), data(now=7)) == "AB12/officer/7"


@pytest.mark.parametrize(
    ("flt", "message", "expected"),
    [
        (MenuKey("TIP_REPORT"), click("TIP_REPORT"), True),
        (MenuKey("TIP_REPORT"), click("OTHER"), False),
        (Event("click"), click("X"), True),
        (Event("subscribe"), text("subscribe"), False),
        (Keyword("Help"), text("HELP"), True),
        (Role("officer"), text("x"), True),
        (Role("patrol"), text("x"), False),
        (StateIs(None), text("x"), True),
        (StateIs(Form.name), text("x"), False),
        (InGroup(Form), text("x"), False),
    ],
)
def test_filters(flt: Any, message: Message, expected: bool) -> None:
    assert bool(flt(message, data())) is expected


def test_router_cannot_include_itself_twice() -> None:
    router, child = Router("a"), Router("b")
    router.include(child)
    with pytest.raises(ValueError, match="already"):
        router.include(child)


def test_dialog_back_steps_through_history() -> None:
    dialog = DialogContext()
    dialog.set_state(Form.name)
    dialog.update(name="小王")
    dialog.set_state(Form.age)
    assert StateIs(Form.age)(text("x"), {"dialog": dialog})
    assert InGroup(Form)(text("x"), {"dialog": dialog})
    assert dialog.current is Form.age
    assert dialog.current.prompt_text(dialog.data) == "小王，您多大了？"
    assert dialog.back() is Form.name
    assert dialog.state == Form.name.name == "Form:name"
    assert dialog.back() is None
    assert dialog.state is None and dialog.data == {}

"""Values outside the platform's rules get a defined answer, the same on SQLite and PostgreSQL.

SQLite ignores VARCHAR sizes and PostgreSQL refuses longer values, so the webhook checks every
value against storage.limits first: a 400 and nothing stored, or a clipped value where WeChat
itself may send more. At the limit a value is accepted and stored on both stores.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.protocol import to_message
from bot.typedefs import sessionmaker_key
from simulator.replies import Attempt
from simulator.wire import Value
from storage import limits
from storage.models import Delivery, Tip, User
from tests.conftest import ORIGINAL_ID, START, Bot

ME = "o-limits"


def text(**changes: Value) -> dict[str, Value]:
    return {
        "ToUserName": ORIGINAL_ID,
        "FromUserName": ME,
        "CreateTime": int(START),
        "MsgType": "text",
        "Content": "你好",
        "MsgId": "23000000000000001",
        **changes,
    }


def event(name: str, **changes: Value) -> dict[str, Value]:
    fields: dict[str, Value] = {
        "ToUserName": ORIGINAL_ID,
        "FromUserName": ME,
        "CreateTime": int(START),
        "MsgType": "event",
        "Event": name,
    }
    return {**fields, **changes}


def location(lat: Value = 39.9, lng: Value = 116.4, label: str = "新华路12号") -> dict[str, Value]:
    fields = {"Location_X": lat, "Location_Y": lng, "Scale": 15, "Label": label}
    return text(MsgType="location", Content="", **fields)


def location_event(
    lat: Value = 39.9, lng: Value = 116.4, precision: Value = 65.0
) -> dict[str, Value]:
    return event("LOCATION", Latitude=lat, Longitude=lng, Precision=precision)


async def push(bot: Bot, fields: dict[str, Value]) -> Attempt:
    body, query = bot.sender.build(fields)
    return await bot.sender.post_raw(body, query)


async def count(bot: Bot, model: type) -> int:
    async with bot.app[sessionmaker_key]() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


REFUSED: list[tuple[str, dict[str, Value]]] = [
    ("FromUserName too long", text(FromUserName="o" * (limits.OPENID + 1))),
    ("FromUserName with a space", text(FromUserName="o bad")),
    ("FromUserName with a dot", text(FromUserName="o.1")),
    ("FromUserName with quotes", text(FromUserName="o';--")),
    ("FromUserName not ASCII", text(FromUserName="张三")),
    ("ToUserName too long", text(ToUserName="gh_" + "0" * limits.ACCOUNT)),
    ("MsgType too long", text(MsgType="t" * (limits.MSG_TYPE + 1))),
    ("Event too long", event("E" * (limits.EVENT + 1))),
    ("Event too long once lower-cased", event("İ" * limits.EVENT)),
    ("EventKey too long", event("CLICK", EventKey="K" * (limits.EVENT_KEY + 1))),
    ("scene too long", event("subscribe", EventKey="qrscene_" + "s" * limits.EVENT_KEY)),
    ("VIEW URL too long", event("VIEW", EventKey="https://x/" + "a" * limits.MENU_URL)),
    ("CreateTime of 400 digits", text(CreateTime="9" * 400)),
    ("CreateTime of 11 digits", text(CreateTime="1" * (limits.CREATE_TIME_DIGITS + 1))),
    ("CreateTime negative", text(CreateTime="-1790000000")),
    ("CreateTime with a sign", text(CreateTime="+1790000000")),
    ("CreateTime with underscores", text(CreateTime="1_790_000_000")),
    ("CreateTime fractional", text(CreateTime="1790000000.5")),
    ("CreateTime full-width digits", text(CreateTime="１７９０")),
    ("MsgId with letters", text(MsgId="12ab")),
    ("MsgId of 21 digits", text(MsgId="9" * (limits.MSG_ID_DIGITS + 1))),
    ("MsgId negative", text(MsgId="-5")),
    ("event MsgId with letters", event("CLICK", EventKey="K", MsgId="x")),
    ("latitude 9999", location(lat=9999)),
    ("latitude just past the pole", location(lat=-90.000001)),
    ("longitude 180.5", location(lng=180.5)),
    ("latitude NaN", location(lat="NaN")),
    ("longitude inf", location(lng="inf")),
    ("latitude -infinity", location(lat="-Infinity")),
    ("latitude 1e400", location(lat="1e400")),
    ("latitude empty", location(lat="")),
    ("latitude text", location(lat="north")),
    (
        "scale of 400 digits",
        text(MsgType="location", Location_X=1.0, Location_Y=2.0, Scale="9" * 400),
    ),
    ("event latitude 91", location_event(lat=91.0)),
    ("event longitude -181", location_event(lng=-181.0)),
    ("event latitude nan", location_event(lat="nan")),
    ("event longitude inf", location_event(lng="inf")),
    ("event precision nan", location_event(precision="nan")),
    ("event precision negative", location_event(precision=-1.0)),
    ("event precision text", location_event(precision="far")),
    ("event without longitude", event("LOCATION", Latitude=1.0)),
]


@pytest.mark.parametrize("fields", [f for _, f in REFUSED], ids=[n for n, _ in REFUSED])
async def test_bad_values_are_a_400_and_store_nothing(bot: Bot, fields: dict[str, Value]) -> None:
    attempt = await push(bot, fields)
    assert attempt.status == 400, attempt.body
    assert (await count(bot, Delivery), await count(bot, User)) == (0, 0)


ACCEPTED: list[tuple[str, dict[str, Value]]] = [
    (
        "FromUserName at the limit",
        text(FromUserName="o-_" + "A9" * ((limits.OPENID - 3) // 2) + "z"),
    ),
    ("ToUserName at the limit", text(ToUserName="gh_" + "0" * (limits.ACCOUNT - 3))),
    ("EventKey at the limit", event("CLICK", EventKey="K" * limits.EVENT_KEY)),
    ("VIEW URL at the limit", event("VIEW", EventKey="https://x/" + "a" * (limits.MENU_URL - 10))),
    ("CreateTime of 10 digits", text(CreateTime="9" * limits.CREATE_TIME_DIGITS)),
    ("CreateTime zero", text(CreateTime="0")),
    ("MsgId of 20 digits", text(MsgId="9" * limits.MSG_ID_DIGITS)),
    ("the poles and the date line", location(lat=-90.0, lng=180.0)),
    ("latitude as WeChat writes it", location(lat="23.134521", lng="-113.358803")),
    ("event at the limits", location_event(lat=90.0, lng=-180.0, precision=0.0)),
    ("long text", text(Content="好" * (limits.CONTENT_CHARS + 1000))),
]


@pytest.mark.parametrize("fields", [f for _, f in ACCEPTED], ids=[n for n, _ in ACCEPTED])
async def test_values_at_the_limit_are_stored(bot: Bot, fields: dict[str, Value]) -> None:
    attempt = await push(bot, fields)
    assert attempt.status == 200, attempt.body
    assert await count(bot, Delivery) == 1
    async with bot.app[sessionmaker_key]() as session:
        delivery = (await session.execute(select(Delivery))).scalar_one()
    assert (delivery.status, delivery.msg_type) == ("done", str(fields["MsgType"]).lower())


async def test_a_long_label_is_stored_clipped(bot: Bot) -> None:
    label = "新华路12号院" + "东" * limits.LOCATION_LABEL  # more than the address column holds
    me = "o-label"
    await bot.sender.subscribe(me)
    await bot.sender.click(me, "TIP_REPORT")
    for answer in ("2", "小区车棚里的电动车被偷了"):
        await bot.sender.text(me, answer)
    placed = await bot.sender.location(me, 39.9, 116.4, label)
    assert placed.reply is not None and "照片" in placed.reply.content
    for answer in ("完成", "1", "1"):
        result = await bot.sender.text(me, answer)
    assert result.reply is not None and "举报已提交" in result.reply.content
    async with bot.app[sessionmaker_key]() as session:
        tip = (await session.execute(select(Tip))).scalar_one()
    assert tip.address == label[: limits.LOCATION_LABEL]
    assert (tip.lat, tip.lng) == (39.9, 116.4)


def test_long_text_and_recognition_are_clipped_not_refused() -> None:
    fields = {
        "ToUserName": "gh_1",
        "FromUserName": "o1",
        "CreateTime": "1",
        "MsgType": "voice",
        "MsgId": "7",
        "Content": "好" * (limits.CONTENT_CHARS + 1),
        "Recognition": "报" * (limits.CONTENT_CHARS + 1),
        "Label": "x",
    }
    message = to_message(fields)
    assert message.content == "好" * limits.CONTENT_CHARS
    assert message.recognition == "报" * limits.CONTENT_CHARS
    assert message.fields["Content"] == fields["Content"]  # the raw fields stay as sent

"""Tips end to end through the webhook, as WeChat would deliver them."""

from __future__ import annotations

import io
import logging
from collections.abc import Awaitable, Callable

import pytest
from PIL import Image
from sqlalchemy import func, select

from bot.typedefs import keys_key, sessionmaker_key, settings_key
from handlers.tips.rules import load_rules
from handlers.tips.service import CODE_ALPHABET, TipService
from handlers.tips.views import export_csv, officer_detail, officer_line
from simulator import FakeClock, FakeWeChat
from storage.models import DialogState, OfficerAlert, Tip, TipEvent, TipMedia
from storage.tips import TipRepo
from tests.conftest import Bot

StartBot = Callable[..., Awaitable[Bot]]


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "TestCam"  # Make
    exif[0x8825] = {1: "N", 2: (39.0, 54.0, 27.0), 3: "E", 4: (116.0, 23.0, 50.0)}  # GPS
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


async def tips(bot: Bot) -> list[Tip]:
    async with bot.app[sessionmaker_key]() as session:
        return list((await session.execute(select(Tip).order_by(Tip.id))).scalars())


async def count(bot: Bot, model: type) -> int:
    async with bot.app[sessionmaker_key]() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def say(bot: Bot, openid: str, text: str) -> str:
    result = await bot.sender.text(openid, text)
    assert result.reply is not None, f"no reply to {text!r}"
    return str(result.reply.content)


async def test_full_anonymous_report_with_location_and_two_photos(
    bot: Bot, platform: FakeWeChat, caplog: pytest.LogCaptureFixture
) -> None:
    # Everything the service logs at the level it runs (and pingan's own debug lines).
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="pingan")
    me = "o-reporter-7f3a"
    await bot.sender.subscribe(me)
    assert "请选择线索类别" in (await bot.sender.click(me, "TIP_REPORT")).reply.content
    assert "描述" in await say(bot, me, "2")  # 盗窃
    assert "地点" in await say(bot, me, "小区车棚里的电动车被偷了，车主电话13812345678")
    assert "照片" in (await bot.sender.location(me, 39.9, 116.4, "新华路12号")).reply.content
    photo = jpeg_with_gps()
    assert "第 1 张" in (await bot.sender.image(me, photo)).reply.content
    assert "第 2 张" in (await bot.sender.image(me, photo)).reply.content
    assert "匿名" in await say(bot, me, "完成")
    summary = await say(bot, me, "1")
    assert "类别：盗窃" in summary and "照片：2 张" in summary and "匿名：是" in summary
    done = await say(bot, me, "1")
    assert "举报已提交，编号：" in done

    [tip] = await tips(bot)
    assert tip.code in done and len(tip.code) == 8 and set(tip.code) <= set(CODE_ALPHABET)
    assert tip.anonymous and tip.reporter_sealed and me not in tip.reporter_sealed
    assert (tip.reporter_name, tip.reporter_phone) == (None, None)
    assert (tip.category, tip.status, tip.level) == ("theft", "submitted", "blue")
    assert (tip.lat, tip.lng, tip.address) == (39.9, 116.4, "新华路12号")
    async with bot.app[sessionmaker_key]() as session:
        media = list((await session.execute(select(TipMedia))).scalars())
        events = list((await session.execute(select(TipEvent))).scalars())
    assert [m.tip_id for m in media] == [tip.id, tip.id]
    for m in media:
        with Image.open(io.BytesIO(m.data)) as kept:
            assert not kept.getexif(), "EXIF (GPS, camera) must be stripped"
        assert len(m.sha256) == 64 and m.size == len(m.data)
    assert {(e.action, e.to_value) for e in events} >= {("status", "submitted")}
    assert await count(bot, DialogState) == 0

    # Nobody but the bot can tell who it was: not the logs, not any officer rendering.
    rules = load_rules()
    renderings = [
        officer_line(tip, rules),
        officer_detail(tip, events, rules),
        export_csv([tip], rules),
        *(r.getMessage() for r in caplog.records),
    ]
    for text in renderings:
        assert me not in text
        assert tip.reporter_sealed not in text
        assert "13812345678" not in text
    assert "138****5678" in officer_detail(tip, events, rules)
    assert "匿名" in officer_detail(tip, events, rules)

    # …yet the reporter still follows up by code.
    status = await say(bot, me, f"查询 {tip.code}")
    assert "状态：已提交" in status
    assert tip.code in await say(bot, me, "我的举报")


async def test_back_and_cancel_at_every_step(bot: Bot) -> None:
    me = "o-back"
    steps = ["举报", "1", "对方冒充客服让我扫码", "2", "跳过", "完成", "1"]
    prompts = []
    for answer in steps:
        prompts.append(await say(bot, me, answer))
    # From the confirm step, 返回 walks back through every question in order, then out.
    expected = [*prompts[5:0:-1], prompts[0].split("\n", 1)[1]]
    for prompt in expected:
        assert await say(bot, me, "返回") == prompt
    assert await say(bot, me, "返回") == "已退出当前操作。"
    await say(bot, me, "举报")
    await bot.sender.image(me, jpeg_with_gps())  # not a photo step any more: nothing stored
    assert "已取消" in await say(bot, me, "取消")
    assert await count(bot, Tip) == 0 and await count(bot, DialogState) == 0

    # Cancel at each step leaves nothing behind, photos included.
    for depth in range(1, len(steps) + 1):
        for answer in steps[:depth]:
            await say(bot, me, answer)
        if depth == 5:
            await bot.sender.image(me, jpeg_with_gps())
        assert "已取消" in await say(bot, me, "取消")
        assert await count(bot, Tip) == 0
        assert await count(bot, TipMedia) == 0
        assert await count(bot, DialogState) == 0


async def test_unexpected_answers_are_asked_again(bot: Bot) -> None:
    me = "o-odd"
    await say(bot, me, "举报")
    assert (await say(bot, me, "九")).startswith("没有看懂您的回复。\n请选择线索类别")
    assert (await say(bot, me, "99")).startswith("没有看懂")
    await say(bot, me, "3")
    image = await bot.sender.image(me, jpeg_with_gps())
    assert image.reply.content.startswith("没有看懂您的回复。\n请简要描述")
    await say(bot, me, "邻居天天吵架")
    await say(bot, me, "1")  # taken as a typed address
    # The location step took "1" as an address; the photo step refuses text that is not 完成.
    assert (await say(bot, me, "随便")).startswith("没有看懂")
    await say(bot, me, "完成")
    assert (await say(bot, me, "也许")).startswith("没有看懂")
    await say(bot, me, "2")  # named: the name and phone are checked
    assert (await say(bot, me, "13812345678")).startswith("请只输入姓名")
    await say(bot, me, "李 桂兰")
    assert (await say(bot, me, "好的吧")).startswith("号码格式不对")
    assert "请核对" in await say(bot, me, "0471-1234567")
    assert (await say(bot, me, "好的吧")).startswith("没有看懂")
    assert await count(bot, Tip) == 0


async def test_emergency_words_interrupt_a_report(bot: Bot) -> None:
    me = "o-emergency"
    await say(bot, me, "举报")
    await say(bot, me, "2")
    answer = await say(bot, me, "楼下有人持刀抢劫")
    assert "立即拨打 110" in answer
    assert "请简要描述" in answer  # the report waits, it is not lost
    # Who was paged comes right after the emergency, before the report's question.
    assert answer.index("拨打 110。") < answer.index("您正在填写的内容已保留")
    [tip] = await tips(bot)
    assert (tip.level, tip.source, tip.status) == ("red", "emergency", "submitted")
    assert await count(bot, OfficerAlert) == 1
    fire = await say(bot, "o-fire", "隔壁着火了")
    assert "立即拨打 119" in fire
    # The report carries on where it was.
    assert "地点" in await say(bot, me, "电动车被偷")


async def test_fraud_fast_lane(bot: Bot) -> None:
    me = "o-fraud"
    await say(bot, me, "举报")
    await say(bot, me, "1")
    lane = await say(bot, me, "冒充公检法，我转账了5万元")
    assert "96110" in lane and "收款账号" in lane
    await say(bot, me, "6222021234567890123 张某")
    await say(bot, me, "50000元，今天上午10点")
    assert "照片" in await say(bot, me, "1")
    await say(bot, me, "完成")
    await say(bot, me, "2")
    await say(bot, me, "张三")
    summary = await say(bot, me, "138 1234 5678")
    assert "实名：张三 138****5678" in summary
    done = await say(bot, me, "1")
    assert "96110" in done
    [tip] = await tips(bot)
    assert tip.level == "red"
    assert (tip.anonymous, tip.reporter_name, tip.reporter_phone) == (
        False,
        "张三",
        "13812345678",
    )
    assert tip.details["fraud"] == {
        "account": "6222021234567890123 张某",
        "amount": "50000元，今天上午10点",
        "channel": "银行转账",
    }
    assert await count(bot, OfficerAlert) == 1
    rules = load_rules()
    async with bot.app[sessionmaker_key]() as session:
        events = await TipRepo(session).events(tip.id)
    assert "6222021234567890123" not in officer_detail(tip, events, rules)
    # Named: the officer handling it sees how to call; lists show the phone masked.
    assert "举报人：张三 13812345678" in officer_detail(tip, events, rules)
    assert "张三 138****5678" in export_csv([tip], rules)
    assert me not in officer_detail(tip, events, rules) + export_csv([tip], rules)


async def _file_tip(bot: Bot, me: str, *, anonymous: bool = False) -> Tip:
    for answer in (
        "举报",
        "4",
        "楼道堆满杂物堵住消防通道",
        "跳过",
        "完成",
        *(("1",) if anonymous else ("2", "王五", "13900001111")),
        "1",
    ):
        await say(bot, me, answer)
    return (await tips(bot))[-1]


async def _resolve(bot: Bot, tip: Tip, note: str) -> None:
    from bot.push import Outbox
    from bot.typedefs import pusher_key

    async with bot.app[sessionmaker_key].begin() as session:
        fresh = await session.get(Tip, tip.id)
        assert fresh is not None
        outbox = Outbox(session, fresh.updated_at, bot.app[keys_key])
        service = TipService(
            session,
            keys=bot.app[keys_key],
            rules=load_rules(),
            now=fresh.updated_at,
            outbox=outbox,
            template_id=bot.app[settings_key].tip_template_id,
        )
        await service.transition(fresh, "accepted", actor="officer:1")
        await service.transition(fresh, "resolved", actor="officer:1", note=note)
    await bot.app[pusher_key].flush(outbox.ids)


async def test_follow_up_inside_and_outside_the_window(
    bot: Bot, platform: FakeWeChat, clock: FakeClock
) -> None:
    me = "o-follow"
    tip = await _file_tip(bot, me, anonymous=True)
    await _resolve(bot, tip, "已清理通道")
    received = [m["content"] for m in platform.inbox(me)]
    assert any("已受理" in m for m in received) and any("已办结" in m for m in received)
    assert await say(bot, me, "1") == "感谢您的评价（满意），我们会继续改进。"
    async with bot.app[sessionmaker_key]() as session:
        rated = await session.get(Tip, tip.id)
    assert rated is not None and rated.satisfaction == "满意"
    assert "感谢您的评价" not in await say(bot, me, "1")  # one tap, one time

    other = await _file_tip(bot, me)
    clock.advance(49 * 3600)
    before = len(platform.inbox(me))
    await _resolve(bot, other, "已处理")
    assert len(platform.inbox(me)) == before  # window closed: held
    shown = await say(bot, me, "你好")
    assert "【您有未读通知】" in shown and "已办结" in shown


async def test_supplement_and_other_users_codes(bot: Bot) -> None:
    me, stranger = "o-owner", "o-stranger"
    tip = await _file_tip(bot, me)
    assert "已补充" in await say(bot, me, f"补充 {tip.code} 杂物是三楼住户放的")
    assert "请发送要补充" in await say(bot, me, f"补充 {tip.code.lower()}")
    await bot.sender.image(me, jpeg_with_gps())
    assert "已补充" in await say(bot, me, "完成")
    async with bot.app[sessionmaker_key]() as session:
        media = await session.scalar(select(func.count()).where(TipMedia.tip_id == tip.id))
    assert media == 1

    not_found = f"没有找到编号为 {tip.code} 的举报，请核对编号。"
    assert await say(bot, stranger, f"查询 {tip.code}") == not_found
    assert await say(bot, stranger, f"补充 {tip.code} 我也看到了") == not_found
    assert (
        await say(bot, stranger, "查询 ZZZZZZZZ") == "没有找到编号为 ZZZZZZZZ 的举报，请核对编号。"
    )
    assert "还没有举报记录" in await say(bot, stranger, "我的举报")


async def test_daily_limit(start_bot: StartBot) -> None:
    bot = await start_bot()
    me = "o-limit"
    for _ in range(load_rules().tips_per_day):
        await _file_tip(bot, me)
    refused = await say(bot, me, "举报")
    assert "上限" in refused
    assert await count(bot, DialogState) == 0
    assert await count(bot, Tip) == load_rules().tips_per_day


async def test_template_message_when_the_window_is_closed(
    start_bot: StartBot, platform: FakeWeChat, clock: FakeClock
) -> None:
    template_id = platform.add_template(
        "举报进展通知",
        "{{first.DATA}}\n编号：{{keyword1.DATA}}\n状态：{{keyword2.DATA}}\n{{remark.DATA}}",
    )
    bot = await start_bot(tip_template_id=template_id)
    me = "o-template"
    await bot.sender.subscribe(me)
    tip = await _file_tip(bot, me, anonymous=True)
    clock.advance(49 * 3600)
    await _resolve(bot, tip, "已处理")
    templates = [m for m in platform.inbox(me) if m["channel"] == "template"]
    assert len(templates) == 2  # accepted, resolved
    assert tip.code in str(templates[-1]["content"]) and "已办结" in str(templates[-1]["content"])
    shown = await say(bot, me, "你好")
    assert "处理结果：已处理" in shown


async def test_voice_description_and_unsubscribe_unlinks(bot: Bot) -> None:
    me = "o-voice"
    await say(bot, me, "举报")
    await say(bot, me, "3")
    answer = await bot.sender.voice(me, b"#!AMR\n\x00\x01", recognition="邻居装修天天吵")
    assert "地点" in answer.reply.content
    for text in ("跳过", "完成", "2", "赵六", "13700001111", "1"):
        await say(bot, me, text)
    [tip] = await tips(bot)
    assert tip.description == "邻居装修天天吵" and tip.reporter_sealed is not None
    assert bot.app[keys_key].unseal(tip.reporter_sealed) == me
    async with bot.app[sessionmaker_key]() as session:
        [voice] = (await session.execute(select(TipMedia))).scalars().all()
    assert (voice.kind, voice.tip_id, voice.data) == ("voice", tip.id, b"#!AMR\n\x00\x01")

    await bot.sender.unsubscribe(me)
    [kept] = await tips(bot)  # police records stay…
    assert kept.reporter_sealed is None

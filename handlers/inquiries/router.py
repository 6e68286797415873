"""办事咨询: answer from the knowledge base, offer close calls, checklist, remind, hand off."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.dialog import DialogContext, State, StatesGroup
from bot.filters import Keyword, MenuKey, MsgType, StateIs
from bot.i18n import _
from bot.message import Message
from bot.router import Router, SkipHandler
from handlers.inquiries.answers import (
    has_details,
    materials_list,
    render_choices,
    render_details,
    render_entry,
    render_materials,
    render_redirect,
)
from handlers.inquiries.dates import parse_visit_day
from handlers.inquiries.kb import Entry, Node, load_kb
from handlers.inquiries.matcher import Matcher, normalise
from handlers.inquiries.normalise import is_question
from storage.clock import CHINA
from storage.inquiries import InquiryRepo

router = Router("inquiries")

#: Reminders go out the evening before the visit (Beijing time).
REMIND_AT = time(18, 0)


def _choices_prompt(data: dict[str, Any]) -> str:
    kb = load_kb()
    return render_choices(e for e in map(kb.get, data.get("choices", [])) if e is not None)


def _node_prompt(data: dict[str, Any]) -> str:
    entry = load_kb().get(str(data.get("entry")))
    node = entry.dialog.nodes.get(str(data.get("node"))) if entry and entry.dialog else None
    return _node_text(node) if node else ""


class Inquiry(StatesGroup):
    choose = State(_choices_prompt)
    checklist = State(_node_prompt)
    visit_day = State(
        lambda d: _("您打算哪天去办？回复如：明天、周六、12月3日。"), takes_text=True
    )
    handoff = State(
        lambda d: _("请问您要咨询什么？请写下您的问题，我们转给值班民警解答。"), takes_text=True
    )


def _node_text(node: Node) -> str:
    lines = [node.ask] + [f"{i}. {o.label}" for i, o in enumerate(node.options, start=1)]
    return "\n".join(lines)


def _answer(dialog: DialogContext, entry: Entry) -> str:
    dialog.clear()
    dialog.update(last_entry=entry.id)
    return render_entry(entry)


@router.message(MenuKey("INQUIRY"))
@router.message(Keyword("办事咨询", "咨询", "办事"))
async def inquiry_menu(dialog: DialogContext, matcher: Matcher) -> str:
    dialog.clear()
    categories = sorted({e.category for e in matcher.kb.entries})
    return _(
        "请直接输入您要办的事，例如：身份证到期怎么换、新生儿怎么上户口。\n可咨询：{topics}"
    ).format(topics="、".join(categories))


@router.message(MenuKey("HANDOFF"))
@router.message(Keyword("人工", "人工服务", "转人工", "找民警", "转民警"))
async def handoff(
    message: Message, dialog: DialogContext, session: AsyncSession, now: datetime
) -> str:
    """Forward the question the base could not answer; with none (or nonsense), ask for it."""
    question = str(dialog.data.get("last_question", ""))
    if not is_question(question):
        dialog.clear()
        dialog.set_state(Inquiry.handoff)
        return Inquiry.handoff.prompt_text(dialog.data) or ""
    dialog.clear()
    await InquiryRepo(session).hand_off(message.openid, question, now)
    return _handed_off()


def _handed_off() -> str:
    # Only what is true: the question is queued where officers read it (`待答复`); no reply
    # time is promised until duty alerts reach them.
    return _("您的问题已转给民警，民警答复后会在本公众号发给您，请留意消息。紧急情况请拨打 110。")


@router.message(StateIs(Inquiry.handoff), MsgType("text", "voice"))
async def handoff_question(
    message: Message, dialog: DialogContext, session: AsyncSession, now: datetime
) -> str:
    if not message.text:
        raise SkipHandler
    if not is_question(message.text):
        return _("没看懂您的问题。请用一句话说说您要办什么事、遇到了什么情况。")
    dialog.clear()
    await InquiryRepo(session).hand_off(message.openid, message.text, now)
    return _handed_off()


@router.message(StateIs(Inquiry.choose), MsgType("text"))
async def choose(message: Message, dialog: DialogContext, matcher: Matcher) -> str:
    ids = list(dialog.data.get("choices", []))
    if message.text.isdigit() and 1 <= int(message.text) <= len(ids):
        entry = matcher.kb.get(ids[int(message.text) - 1])
        if entry is not None:
            return _answer(dialog, entry)
    dialog.clear()  # not a number: take it as a new question
    raise SkipHandler


@router.message(StateIs(None), Keyword("清单", "材料清单", "自查"))
async def start_checklist(dialog: DialogContext, matcher: Matcher) -> str:
    entry = matcher.kb.get(str(dialog.data.get("last_entry", "")))
    if entry is None or entry.dialog is None:
        raise SkipHandler
    node = entry.dialog.nodes[entry.dialog.start]
    dialog.set_state(Inquiry.checklist)
    dialog.update(entry=entry.id, node=entry.dialog.start)
    return _node_text(node)


@router.message(StateIs(Inquiry.checklist), MsgType("text"))
async def checklist_step(message: Message, dialog: DialogContext, matcher: Matcher) -> str:
    entry = matcher.kb.get(str(dialog.data.get("entry")))
    if entry is None or entry.dialog is None:
        dialog.clear()
        raise SkipHandler
    node = entry.dialog.nodes[str(dialog.data["node"])]
    labels = [o.label for o in node.options]
    if message.text.isdigit() and 1 <= int(message.text) <= len(labels):
        option = node.options[int(message.text) - 1]
    elif message.text in labels:
        option = node.options[labels.index(message.text)]
    else:
        raise SkipHandler  # asked again by the fallback
    if option.next is not None:
        following = entry.dialog.nodes[option.next]
        dialog.set_state(Inquiry.checklist)
        dialog.update(node=option.next)
        return _node_text(following)
    dialog.clear()
    dialog.update(last_entry=entry.id, materials=list(option.materials))
    return "\n".join(
        [
            _("【{title}】您需要带：").format(title=entry.title),
            materials_list(option.materials),
            _("回复「提醒我」，去办事的前一天把这份清单发给您。"),
        ]
    )


@router.message(StateIs(None), Keyword("材料", "要带什么", "带什么"))
async def show_materials(dialog: DialogContext, matcher: Matcher) -> str:
    entry = matcher.kb.get(str(dialog.data.get("last_entry", "")))
    if entry is None:
        raise SkipHandler  # no entry answered yet: 材料 is a question like any other
    return render_materials(entry)


@router.message(StateIs(None), Keyword("详情", "详细", "更多"))
async def show_details(dialog: DialogContext, matcher: Matcher) -> str:
    entry = matcher.kb.get(str(dialog.data.get("last_entry", "")))
    if entry is None or not has_details(entry):
        raise SkipHandler
    return render_details(entry)


@router.message(StateIs(None), Keyword("提醒我", "提醒"))
async def remind_me(dialog: DialogContext, matcher: Matcher) -> str:
    entry = matcher.kb.get(str(dialog.data.get("last_entry", "")))
    if entry is None or not (entry.materials or dialog.data.get("materials")):
        return _("请先咨询要办的事，再回复「提醒我」。")
    dialog.set_state(Inquiry.visit_day)
    return Inquiry.visit_day.prompt_text(dialog.data) or ""


@router.message(StateIs(Inquiry.visit_day), MsgType("text"))
async def visit_day(
    message: Message,
    dialog: DialogContext,
    matcher: Matcher,
    session: AsyncSession,
    now: datetime,
) -> str:
    today = now.astimezone(CHINA).date()
    day = parse_visit_day(message.text, today)
    if day is None:
        raise SkipHandler
    entry = matcher.kb.get(str(dialog.data.get("last_entry", "")))
    if entry is None:
        dialog.clear()
        return _("请先咨询要办的事，再回复「提醒我」。")
    materials = dialog.data.get("materials") or list(entry.materials)
    text = "\n".join(
        [
            _("【办事提醒】{date} 去办：{title}").format(
                date=f"{day:%m月%d日}", title=entry.title
            ),
            _("请带好："),
            materials_list(materials),
            *([_("办理时间：{when}").format(when=entry.when)] if entry.when else []),
        ]
    )
    due = datetime.combine(day - timedelta(days=1), REMIND_AT, tzinfo=CHINA)
    dialog.clear()
    if due <= now:
        return _("您很快就要去办了，清单现在就发给您：") + "\n" + text
    await InquiryRepo(session).remind(message.openid, due, text)
    return _("好的，{due} 会把材料清单发给您。").format(due=f"{due:%m月%d日 %H:%M}")


@router.message(StateIs(None), MsgType("text", "voice"))
async def ask(
    message: Message,
    dialog: DialogContext,
    matcher: Matcher,
    session: AsyncSession,
    now: datetime,
) -> str:
    """Free text that no other handler took is a question for the knowledge base."""
    if not message.text:
        raise SkipHandler
    if not is_question(message.text):  # asdfgh, 。。。, a lone emoji: not worth an officer's time
        dialog.clear()
        return _("没看懂您的意思。请直接说要办的事，例如：身份证丢了怎么补。")
    verdict = matcher.match(message.text)
    if verdict.answer is not None:
        return _answer(dialog, verdict.answer)
    if verdict.redirect is not None:
        dialog.clear()
        dialog.update(last_question=message.text[:1000])
        return render_redirect(verdict.redirect)
    if verdict.candidates:
        entries = [m.entry for m in verdict.candidates if isinstance(m.entry, Entry)]
        dialog.clear()
        dialog.set_state(Inquiry.choose)
        dialog.update(choices=[e.id for e in entries], last_question=message.text[:1000])
        return render_choices(entries)
    await InquiryRepo(session).unanswered(normalise(message.text), message.text, now)
    dialog.clear()
    dialog.update(last_question=message.text[:1000])
    return _("抱歉，没有找到相关答案。可以换个说法再问，或回复「人工」转值班民警解答。")

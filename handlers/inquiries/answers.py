"""Rendering knowledge-base entries for residents: a short first reply, the rest on request.

The first reply fits a phone screen (title, a 2–3 line answer, the offers); 「材料」 and
「详情」 show the rest of the entry last answered.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.i18n import _
from handlers.inquiries.kb import Entry, Redirect


def materials_list(materials: Iterable[str]) -> str:
    return "\n".join(f"{i}. {m}" for i, m in enumerate(materials, start=1))


def has_details(entry: Entry) -> bool:
    return bool(entry.detail or entry.where or entry.when or entry.fee or entry.time_limit)


def offers(entry: Entry) -> str:
    """The keywords that show more of ``entry``, in one line."""
    parts = []
    if entry.materials:
        parts.append(_("「材料」看要带什么"))
    if has_details(entry):
        parts.append(_("「详情」看地点、时间、费用"))
    if entry.dialog:
        parts.append(_("「清单」按您的情况列材料"))
    if entry.materials or entry.dialog:
        parts.append(_("「提醒我」办事前一天提醒"))
    return _("回复{offers}。").format(offers="，".join(parts)) if parts else ""


def render_entry(entry: Entry) -> str:
    """The first reply: at most about 200 characters and 8 lines."""
    lines = [f"【{entry.title}】", entry.answer]
    more = offers(entry)
    if more:
        lines.append(more)
    return "\n".join(lines)


def render_materials(entry: Entry) -> str:
    lines = [_("【{title}】要带的材料：").format(title=entry.title)]
    lines.append(materials_list(entry.materials) if entry.materials else _("不用带材料。"))
    if entry.dialog:
        lines.append(_("情况不同材料不同：回复「清单」按您的情况列出。"))
    if entry.materials or entry.dialog:
        lines.append(_("回复「提醒我」，去办事的前一天把材料清单发给您。"))
    return "\n".join(lines)


def render_details(entry: Entry) -> str:
    lines = [_("【{title}】详情：").format(title=entry.title)]
    if entry.detail:
        lines.append(entry.detail)
    if entry.where:
        lines.append(_("办理地点：{where}").format(where=entry.where))
    if entry.when:
        lines.append(_("办理时间：{when}").format(when=entry.when))
    if entry.fee:
        lines.append(_("费用：{fee}").format(fee=entry.fee))
    if entry.time_limit:
        lines.append(_("办理时限：{limit}").format(limit=entry.time_limit))
    flags = [_("可网上办理")] * entry.online + [_("一证即办")] * entry.one_id
    if flags:
        lines.append("、".join(flags))
    if entry.materials:
        lines.append(_("回复「材料」看要带什么。"))
    return "\n".join(lines)


def render_redirect(redirect: Redirect) -> str:
    return redirect.answer + "\n" + _("还有需要民警帮忙的，回复「人工」。")


def render_choices(entries: Iterable[Entry]) -> str:
    lines = [_("您想问的是哪一个？请回复数字：")]
    lines += [f"{i}. {e.title}" for i, e in enumerate(entries, start=1)]
    lines.append(_("都不是？请换个说法，或回复「人工」。"))
    return "\n".join(lines)

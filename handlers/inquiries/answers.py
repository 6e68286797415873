"""Rendering knowledge-base entries for residents: short, plain, one message."""

from __future__ import annotations

from collections.abc import Iterable

from bot.i18n import _
from handlers.inquiries.kb import Entry


def materials_list(materials: Iterable[str]) -> str:
    return "\n".join(f"{i}. {m}" for i, m in enumerate(materials, start=1))


def render_entry(entry: Entry) -> str:
    lines = [f"【{entry.title}】", entry.answer]
    if entry.materials:
        lines += [_("所需材料："), materials_list(entry.materials)]
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
    if entry.dialog:
        lines.append(_("回复「清单」，按您的情况列出要带的材料。"))
    if entry.materials or entry.dialog:
        lines.append(_("回复「提醒我」，去办事的前一天把材料清单发给您。"))
    return "\n".join(lines)


def render_choices(entries: Iterable[Entry]) -> str:
    lines = [_("您想问的是哪一个？请回复数字：")]
    lines += [f"{i}. {e.title}" for i, e in enumerate(entries, start=1)]
    lines.append(_("都不是？请换个说法，或回复「人工」。"))
    return "\n".join(lines)

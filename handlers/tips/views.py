"""How officers see tips: lists, details and CSV exports.

These renderings are the only way tip data leaves the bot for officers, so they are where
privacy is enforced: personal numbers are masked, no view ever shows an openid or the sealed
form, and only a named tip shows its reporter's name and phone (masked in lists).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping

from bot.i18n import _
from handlers.tips.privacy import mask
from handlers.tips.rules import LEVEL_NAMES, TipRules
from handlers.tips.service import STATUS_NAMES
from storage.clock import CHINA
from storage.models import Tip, TipEvent


def _reporter(tip: Tip, *, full: bool = False) -> str:
    if tip.anonymous or not (tip.reporter_name or tip.reporter_phone):
        return _("匿名")
    phone = tip.reporter_phone or ""
    if phone and not full:
        phone = phone[:3] + "****" + phone[-4:]
    return f"{tip.reporter_name or ''} {phone}".strip()


def _category(tip: Tip, rules: TipRules) -> str:
    category = rules.category(tip.category)
    return _(category.name) if category else tip.category


def officer_line(tip: Tip, rules: TipRules) -> str:
    text = mask(tip.description)
    short = text if len(text) <= 30 else text[:30] + "…"
    return (
        f"[{_(LEVEL_NAMES[tip.level])}] {tip.code} {_category(tip, rules)} "
        f"{_(STATUS_NAMES[tip.status])} {short}"
    )


#: How a tip's history reads to officers (``tip_events.action``).
ACTION_NAMES = {
    "status": "状态",
    "level": "定级",
    "supplement": "补充",
    "rating": "评价",
    "reply": "回复",
    "assign": "分派",
    "note": "备注",
}


def _value(value: str | None) -> str:
    if value in STATUS_NAMES:
        return _(STATUS_NAMES[value])
    return _(LEVEL_NAMES[value]) if value in LEVEL_NAMES else value or ""


def _history(event: TipEvent, names: Mapping[str, str]) -> str:
    if event.actor == "reporter":
        actor = _("举报人")
    else:
        actor = names.get(event.actor) or (_("系统") if event.actor == "system" else event.actor)
    action = _(ACTION_NAMES[event.action]) if event.action in ACTION_NAMES else event.action
    change = "→" + _value(event.to_value) if event.to_value and event.action != "assign" else ""
    note = mask(event.note or "") if event.actor != "system" else ""
    at = event.at.astimezone(CHINA)
    return f"· {at:%m-%d %H:%M} {actor} {action}{change} {note}".rstrip()


def officer_detail(
    tip: Tip, events: Iterable[TipEvent], rules: TipRules, names: Mapping[str, str] = {}
) -> str:
    """``names``: an actor ("officer:3") to the name officers know them by."""
    lines = [
        _("编号：{code}（{level}）").format(code=tip.code, level=_(LEVEL_NAMES[tip.level])),
        _("类别：{name}").format(name=_category(tip, rules)),
        _("状态：{status}").format(status=_(STATUS_NAMES[tip.status])),
        _("举报人：{who}").format(who=_reporter(tip, full=True)),
        _("情况：{text}").format(text=mask(tip.description)),
    ]
    fraud = tip.details.get("fraud") if tip.details else None
    if fraud:
        lines.append(
            _("收款账号：{account}；金额与时间：{amount}；方式：{channel}").format(
                account=mask(fraud.get("account", "")),
                amount=fraud.get("amount", ""),
                channel=fraud.get("channel", ""),
            )
        )
    if tip.address or tip.lat is not None:
        where = tip.address or ""
        if tip.lat is not None:
            where += f" ({tip.lat:.5f}, {tip.lng:.5f})"
        lines.append(_("地点：{where}").format(where=mask(where.strip())))
    lines += [_history(event, names) for event in events]
    return "\n".join(lines)


EXPORT_COLUMNS = (
    "code",
    "created_at",
    "category",
    "level",
    "status",
    "reporter",
    "description",
    "address",
)


#: A spreadsheet runs a cell that starts with these as a formula (=HYPERLINK(…) exfiltrates).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def cell(value: str) -> str:
    """A CSV cell a spreadsheet shows as text: formula-like values get a leading quote."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def export_csv(tips: Iterable[Tip], rules: TipRules) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    for tip in tips:
        row = (
            tip.code,
            tip.created_at.isoformat(),
            _category(tip, rules),
            tip.level,
            tip.status,
            _reporter(tip),
            mask(tip.description),
            mask(tip.address or ""),
        )
        writer.writerow([cell(value) for value in row])
    return out.getvalue()

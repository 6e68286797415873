"""Emergencies first: in any step, words of danger get "call 110" at once and page officers."""

from __future__ import annotations

from bot.dialog import DialogContext
from bot.i18n import _
from bot.message import Message
from bot.router import Data, FilterResult, Router
from handlers.tips.emergency_rules import Emergency
from handlers.tips.rules import TipRules
from handlers.tips.service import TipService
from storage.models import User

router = Router("tips-emergency")

NUMBERS = {"110": "报警", "119": "火警", "120": "急救"}


def is_emergency(message: Message, data: Data) -> FilterResult:
    rules: TipRules = data["tip_rules"]
    found = rules.emergency(message.text) if message.text else None
    return {"emergency": found} if found else False


@router.message(is_emergency)
async def emergency(
    message: Message,
    dialog: DialogContext,
    user: User,
    tips: TipService,
    emergency: Emergency,
    resume: list[str] | None = None,
) -> str:
    number = emergency.number
    tip, folded = await tips.emergency(
        message.openid, message.text, community_id=user.community_id
    )
    # Say only what is true now: the tip is stored; who was paged is said by the duty alerts.
    recorded = (
        _("已补充到您的紧急线索（编号 {code}）。")
        if folded
        else _("您的消息已记录为紧急线索（编号 {code}）。")
    )
    lines = [
        _("情况紧急，请立即拨打 {number}（{name}）！").format(
            number=number, name=_(NUMBERS[number])
        ),
        _("报警 110，火警 119，急救 120。"),
        recorded.format(code=tip.code),
    ]
    current = dialog.current
    if current is not None:
        # After the word on who was paged (``resume`` is said last by the duty alerts).
        after = resume if resume is not None else lines
        after.append(_("您正在填写的内容已保留，处理完紧急情况后可继续："))
        after.append(current.prompt_text(dialog.data) or "")
    return "\n".join(lines)

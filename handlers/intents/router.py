"""Free text nobody else took, read for what the resident wants before the knowledge base:
a wish to report (with what happened, if said), a fraud victim, their own reports, a
greeting or thanks. What is none of these goes on to the knowledge base."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.dialog import DialogContext
from bot.i18n import _
from bot.message import Message
from bot.router import Data, FilterResult, Router
from handlers.intents.reader import Intent, load_intents
from handlers.tips.followup import my_tips
from handlers.tips.report import begin
from handlers.tips.service import TipService

router = Router("intents")


#: Only outside a dialog: mid-step, "好的" is no answer and the step is asked again.
IDLE_ONLY = frozenset({"greeting", "thanks"})


def understood(message: Message, data: Data) -> FilterResult:
    """Filter: the text reads as something this router acts on (read once per message);
    the handler takes ``intent``."""
    if message.msg_type != "text" or not message.text:
        return False
    dialog: DialogContext = data["dialog"]
    if dialog.current is not None and dialog.current.takes_text:
        return False  # the answer to the question asked, whatever it says
    intent = load_intents().read(message.text)
    if intent.kind in ("other", "cancel") or (intent.kind in IDLE_ONLY and dialog.state):
        return False
    return {"intent": intent}


@router.message(understood)
async def act(
    message: Message,
    intent: Intent,
    dialog: DialogContext,
    session: AsyncSession,
    tips: TipService,
) -> str:
    if intent.kind == "fraud":
        # 96110 first: stopping the payment cannot wait for the rest of the report.
        lead = _("请立即拨打 96110 反诈专线，并联系银行冻结止付！我们帮您记下来：")
        return await begin(
            message, dialog, session, tips, category="fraud", description=message.text, lead=lead
        )
    if intent.kind == "report":
        description = message.text if intent.described else None
        return await begin(
            message, dialog, session, tips, category=intent.category, description=description
        )
    if intent.kind == "my_reports":
        listing = await my_tips(message, tips) or ""
        return listing + "\n" + _("在派出所报的案，请凭报案回执联系办案民警查询进度。")
    if intent.kind == "greeting":
        return _("您好！要举报，直接说发生了什么；要办事，直接问。紧急情况请拨打 110。")
    return _("不客气！有事随时找我们。")  # thanks

"""Free text nobody else took, read for what the resident wants before the knowledge base:
a wish to report (with what happened, if said), a fraud victim, their own reports, a
greeting or thanks. What is none of these goes on to the knowledge base."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.dialog import DialogContext
from bot.filters import StateIs
from bot.i18n import _
from bot.message import Message
from bot.router import Data, Filter, FilterResult, Router
from handlers.intents.reader import Intent, load_intents
from handlers.tips.followup import my_tips
from handlers.tips.report import begin
from handlers.tips.service import TipService

router = Router("intents")


def reads_as(*kinds: str) -> Filter:
    """Filter: the text reads as one of ``kinds``; the handler may take ``intent``."""

    def check(message: Message, data: Data) -> FilterResult:
        if message.msg_type != "text" or not message.text:
            return False
        step = data["dialog"].current
        if step is not None and step.takes_text:
            return False  # the answer to the question asked, whatever it says
        intent = load_intents().read(message.text)
        return {"intent": intent} if intent.kind in kinds else False

    return check


@router.message(reads_as("fraud"))
async def defrauded(
    message: Message, dialog: DialogContext, session: AsyncSession, tips: TipService
) -> str:
    # 96110 first: stopping the payment cannot wait for the rest of the report.
    lead = _("请立即拨打 96110 反诈专线，并联系银行冻结止付！我们帮您记下来：")
    return await begin(
        message, dialog, session, tips, category="fraud", description=message.text, lead=lead
    )


@router.message(reads_as("report"))
async def wants_to_report(
    message: Message,
    intent: Intent,
    dialog: DialogContext,
    session: AsyncSession,
    tips: TipService,
) -> str:
    description = message.text if intent.described else None
    return await begin(
        message, dialog, session, tips, category=intent.category, description=description
    )


@router.message(reads_as("my_reports"))
async def own_reports(message: Message, tips: TipService) -> str:
    listing = await my_tips(message, tips) or ""
    return listing + "\n" + _("在派出所报的案，请凭报案回执联系办案民警查询进度。")


@router.message(StateIs(None), reads_as("greeting"))
async def greeting() -> str:
    return _("您好！要举报，直接说发生了什么；要办事，直接问。紧急情况请拨打 110。")


@router.message(StateIs(None), reads_as("thanks"))
async def thanks() -> str:
    return _("不客气！有事随时找我们。")

"""The steps of a patrol: waiting for the check-in, on patrol, a quick report being written."""

from __future__ import annotations

from datetime import timedelta

from bot.dialog import State, StatesGroup
from bot.i18n import _
from handlers.tips.photos import stripped
from handlers.tips.service import discard_drafts

#: A shift's step outlives the dialog timeout (the shift's own maximum closes it).
SHIFT_STEP = timedelta(hours=12)


class Patrol(StatesGroup):
    checkin = State(
        lambda d: _("请发送您的位置签到（点「+」→「位置」）。"),
        idle=SHIFT_STEP,
    )
    on = State(
        lambda d: _("巡逻中：发照片或文字即可上报，「结束巡逻」收队。"),
        media=("image",),
        prepare={"image": stripped},
        idle=SHIFT_STEP,
    )
    report = State(
        lambda d: _("请用一句话说明情况，或回复「完成」直接上报。"),
        media=("image",),
        prepare={"image": stripped},
        takes_text=True,
    )
    confirm = State(lambda d: _("上报这条情况吗？回复 1 上报，2 不报。"))


Patrol.on_abandon = discard_drafts  # a dropped quick report keeps no photos

"""Who is a volunteer: the volunteer record decides, checked on every update.

``users.role == "patrol"`` only tells the residents' routes to stand aside; a patrol power
needs an active ``Volunteer`` row bound to the account, so suspending one takes effect on
the next message. The middleware also closes a shift that overran (lazily) and keeps the
shift's dialog step in place, so photos sent on patrol are downloaded.
"""

from __future__ import annotations

import logging

from bot.dialog import DialogContext
from bot.i18n import _
from bot.message import Message
from bot.middlewares import Next
from bot.router import Data, Result
from handlers.patrols.dialog import Patrol
from handlers.patrols.rules import load_patrol_rules
from handlers.patrols.shifts import current_shift
from storage.patrol_models import Volunteer
from storage.patrols import PatrolRepo

log = logging.getLogger("pingan.patrols")


async def load_volunteer(handler: Next, message: Message, data: Data) -> Result:
    """Middleware: ``data["volunteer"]`` (any status) and ``data["shift"]`` (open), or None."""
    user = data.get("user")
    data["volunteer"] = data["shift"] = None
    if user is None or user.role != "patrol":  # a query only for volunteers' accounts
        return await handler(message, data)
    repo = PatrolRepo(data["session"])
    volunteer = await repo.of(message.openid)
    data["volunteer"] = volunteer
    note = shift = None
    dialog: DialogContext = data["dialog"]
    patrolling = False
    if volunteer is not None:
        shift, note = await current_shift(
            repo, volunteer, now=data["now"], rules=load_patrol_rules()
        )
        data["shift"] = shift
        patrolling = shift is not None and in_patrol(message, data)
        if shift is not None and dialog.state is None:  # after 取消 or a resident's dialog
            dialog.set_state(Patrol.on, remember=False)
        elif shift is None and dialog.state and dialog.state.startswith("Patrol:"):
            dialog.clear()
    result = await handler(message, data)
    # The shift's last sign of life: to the minute, and only for what is said on patrol
    # from start to end, so that a resident's report the volunteer files meanwhile
    # (anonymous, perhaps) leaves no time on the shift.
    if patrolling and shift is not None and not message.is_event and in_patrol(message, data):
        seen = data["now"].replace(second=0, microsecond=0)
        if shift.ended_at is None and shift.seen_at < seen:
            shift.seen_at = seen
    if note:
        return "\n".join(p for p in (note, result if isinstance(result, str) else None) if p)
    return result


def volunteer_only(message: Message, data: Data) -> bool:
    """Filter: an active volunteer."""
    volunteer = data.get("volunteer")
    return volunteer is not None and volunteer.status == "active"


def in_patrol(message: Message, data: Data) -> bool:
    """Filter: no dialog, or a patrol step (not a resident's report the volunteer is filing)."""
    state = data["dialog"].state
    return state is None or state.startswith("Patrol:")


def on_shift(message: Message, data: Data) -> bool:
    """Filter: an active volunteer with an open shift."""
    return volunteer_only(message, data) and data.get("shift") is not None


async def refuse(message: Message, volunteer: Volunteer | None = None) -> str:
    """For residents who type a patrol command, and for suspended volunteers."""
    if volunteer is not None and volunteer.status == "suspended":
        log.info("suspended volunteer=%s refused", volunteer.id)
        return _("您的巡防队员资格已暂停，请联系民警。")
    log.info("patrol command refused type=%s", message.msg_type)
    return _("此功能仅限登记的巡防队员使用。")

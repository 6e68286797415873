"""Who is an officer: the officer record decides, checked on every update.

``users.role`` says "officer" so that residents' routes know to stand aside, but a power is
granted only by an active ``Officer`` row: revoking one takes effect on the next message.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import _
from bot.message import Message
from bot.middlewares import Next
from bot.router import Data, Result
from storage.audit import AuditRepo
from storage.models import Officer
from storage.officers import OfficerRepo

log = logging.getLogger("pingan.officers")


async def load_officer(handler: Next, message: Message, data: Data) -> Result:
    """Middleware: ``data["officer"]`` is the sender's active officer record, or None."""
    user = data.get("user")
    officer = None
    if user is not None and user.role == "officer":  # a query only for staff accounts
        officer = await OfficerRepo(data["session"]).active(message.openid)
    data["officer"] = officer
    return await handler(message, data)


class OfficerOnly:
    """Filter: an active officer of one of ``ranks`` (any rank when none is given)."""

    def __init__(self, *ranks: str) -> None:
        self.ranks = frozenset(ranks)

    def __call__(self, message: Message, data: Data) -> bool:
        officer = data.get("officer")
        return officer is not None and (not self.ranks or officer.rank in self.ranks)


def audit(
    session: AsyncSession,
    officer: Officer,
    action: str,
    subject: str | None,
    now: datetime,
    detail: str | None = None,
) -> None:
    """Record an officer's action or view in the append-only audit log (and the log)."""
    AuditRepo(session).record(
        officer_id=officer.id, action=action, subject=subject, now=now, detail=detail
    )
    log.info("officer=%s %s %s", officer.id, action, subject or "-")


async def refuse(message: Message) -> str:
    """For everyone who types an officer command without being one (or no longer one):
    nothing shown, nothing changed, and it is logged."""
    log.warning("officer command refused type=%s", message.msg_type)
    return _("此功能仅限本所民警使用。")

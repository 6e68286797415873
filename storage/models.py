"""Tables. Every datetime is stored as naive UTC and read back as aware UTC."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage import limits
from storage.ledger_models import LINKED as LINKED
from storage.ledger_models import PROCESSING as PROCESSING
from storage.ledger_models import REPLIED as REPLIED
from storage.ledger_models import Delivery as Delivery
from storage.ledger_models import WebhookNonce as WebhookNonce

# Re-exported: migrations and tests take the base from here.
from storage.modelbase import Base as Base
from storage.modelbase import UTCDateTime as UTCDateTime


class Community(Base):
    """A community (社区) or village (村) that residents belong to and broadcasts target."""

    __tablename__ = "communities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    area: Mapped[str | None] = mapped_column(String(64))  # 街道/乡镇 or police grid
    # The account's user tag for this community, created on first use (≤ 100 per account).
    tag_id: Mapped[int | None]
    created_at: Mapped[datetime]


class User(Base):
    """One follower of the account. Deleted on unsubscribe (the platform's rule)."""

    __tablename__ = "users"

    openid: Mapped[str] = mapped_column(String(limits.OPENID), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), default="resident")
    language: Mapped[str] = mapped_column(String(16), default="zh_CN")
    community_id: Mapped[int | None] = mapped_column(
        ForeignKey("communities.id", ondelete="SET NULL")
    )
    subscribed_at: Mapped[datetime]
    # Last time the user wrote to us, and how: the customer-service window depends on both.
    last_inbound_at: Mapped[datetime]
    last_inbound_kind: Mapped[str] = mapped_column(String(16), default="message")
    # Pushes WeChat refused (window closed) that wait to be shown: saves a query per message.
    held_pushes: Mapped[int] = mapped_column(Integer, default=0)
    # The user's own tips (ids), sealed: "my tips" without any per-person hash on the tips.
    tips_sealed: Mapped[str | None] = mapped_column(Text)


class Officer(Base):
    """A police officer (民警), auxiliary (辅警) or the station chief (所长) on the account.

    Created by `pingan officer add`, bound to a WeChat account when its enrolment code is
    redeemed, revoked by `pingan officer revoke`; every officer power checks ``status``.
    """

    __tablename__ = "officers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(limits.REPORTER_NAME))
    rank: Mapped[str] = mapped_column(String(16))  # officer | auxiliary | chief
    # Officers are staff, not reporters: the bot reaches them on duty by their openid.
    openid: Mapped[str | None] = mapped_column(String(limits.OPENID), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # active | revoked
    created_at: Mapped[datetime]
    bound_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class AuditEntry(Base):
    """One officer action or view, append-only (the database refuses updates and deletes)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    # No ON DELETE: an officer with entries here can be revoked, never erased.
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    action: Mapped[str] = mapped_column(String(32))  # view | list | accept | reply | …
    subject: Mapped[str | None] = mapped_column(String(32))  # a tip code, H<n>, a list name
    detail: Mapped[str | None] = mapped_column(Text)


class DutyShift(Base):
    """When an officer is on duty: a weekly pattern (``weekday``) or a one-day override
    (``day``, possibly ``off``), in Beijing time. No rows at all: every officer is on duty."""

    __tablename__ = "duty_shifts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"), index=True)
    weekday: Mapped[int | None]  # 0 = Monday … 6 = Sunday
    day: Mapped[date | None] = mapped_column(Date)
    starts: Mapped[str] = mapped_column(String(5), default="00:00")  # HH:MM
    ends: Mapped[str] = mapped_column(String(5), default="24:00")  # before starts: overnight
    off: Mapped[bool] = mapped_column(default=False)


class RevealRequest(Base):
    """A request to unseal an anonymous reporter (for legal process): one officer asks with a
    reason, the chief decides, the requester sees the result once."""

    __tablename__ = "reveal_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tip_id: Mapped[int] = mapped_column(ForeignKey("tips.id"))
    requested_by: Mapped[int] = mapped_column(ForeignKey("officers.id"))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # approved | refused
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    shown_at: Mapped[datetime | None]


class EnrolmentCode(Base):
    """A one-time code an officer hands out: scanning or typing it grants a role."""

    __tablename__ = "enrolment_codes"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    community_id: Mapped[int | None] = mapped_column(
        ForeignKey("communities.id", ondelete="SET NULL")
    )
    # An officer's own code binds that officer record (see ``Officer``).
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id", ondelete="CASCADE"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_by: Mapped[str | None] = mapped_column(String(limits.DIGEST))  # keyed hash, not openid
    used_at: Mapped[datetime | None]


class DialogState(Base):
    """Where a user is in a multi-step dialog; saved with the handler's effects."""

    __tablename__ = "dialog_states"

    openid: Mapped[str] = mapped_column(String(limits.OPENID), primary_key=True)
    state: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    history: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime]


class AccessToken(Base):
    """The one cached access_token per appid, shared by every process."""

    __tablename__ = "access_tokens"

    appid: Mapped[str] = mapped_column(String(64), primary_key=True)
    token: Mapped[str] = mapped_column(String(512), default="")
    expires_at: Mapped[datetime]
    fetched_at: Mapped[datetime]


class KeyCheck(Base):
    """A value sealed with the seal key: a start with a key that cannot read it stops."""

    __tablename__ = "key_checks"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    sealed: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class OutboundMessage(Base):
    """A push to a user through the customer-service API: the ledger of what was sent."""

    __tablename__ = "outbound_messages"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    openid: Mapped[str | None] = mapped_column(String(limits.OPENID), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    # The message; emptied once it was sent, shown or given up on.
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # pending → sent | failed (retried later) | dead (gave up) | held (window closed: shown
    # when the user next writes) | shown | dropped (the user left)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    errcode: Mapped[int | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(index=True)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class Tip(Base):
    """A resident's tip (线索). The reporter is reachable but, if anonymous, not visible."""

    __tablename__ = "tips"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    category: Mapped[str] = mapped_column(String(32))
    level: Mapped[str] = mapped_column(String(8))  # blue | yellow | red (三色预警)
    status: Mapped[str] = mapped_column(String(16), default="submitted")
    source: Mapped[str] = mapped_column(String(16))  # guided | emergency
    description: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # fraud lane answers…
    lat: Mapped[float | None]
    lng: Mapped[float | None]
    address: Mapped[str | None] = mapped_column(String(limits.ADDRESS))
    community_id: Mapped[int | None] = mapped_column(
        ForeignKey("communities.id", ondelete="SET NULL"), index=True
    )
    anonymous: Mapped[bool] = mapped_column(default=False)
    # Who reported it, sealed (random IV: two tips of one person look unrelated). Officers
    # reach the reporter through the bot's relay; only a named tip shows a name and phone.
    reporter_sealed: Mapped[str | None] = mapped_column(Text)
    reporter_name: Mapped[str | None] = mapped_column(String(limits.REPORTER_NAME))
    reporter_phone: Mapped[str | None] = mapped_column(String(limits.REPORTER_PHONE))
    outcome: Mapped[str | None] = mapped_column(Text)
    duplicate_of: Mapped[int | None] = mapped_column(ForeignKey("tips.id", ondelete="SET NULL"))
    # The officer in charge (分派); accepting a tip nobody holds takes it.
    assigned_to: Mapped[int | None] = mapped_column(
        ForeignKey("officers.id", ondelete="SET NULL"), index=True
    )
    satisfaction: Mapped[str | None] = mapped_column(String(16))
    rating_requested: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]


class TipMedia(Base):
    """A photo or voice clip of a tip, downloaded when it arrived (WeChat keeps it 3 days)."""

    __tablename__ = "tip_media"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tip_id: Mapped[int | None] = mapped_column(
        ForeignKey("tips.id", ondelete="CASCADE"), index=True
    )
    # Media arriving before the tip is confirmed belongs to the reporter's draft.
    draft_owner: Mapped[str | None] = mapped_column(String(limits.OPENID), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # image | voice
    content_type: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    received_at: Mapped[datetime]


class TipEvent(Base):
    """The audit trail: every status or level change and every addition, who and when."""

    __tablename__ = "tip_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tip_id: Mapped[int] = mapped_column(ForeignKey("tips.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))  # "reporter", "system", "officer:<id>"
    action: Mapped[str] = mapped_column(String(16))  # status | level | supplement | rating
    from_value: Mapped[str | None] = mapped_column(String(32))
    to_value: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)


class OfficerAlert(Base):
    """A page for the officers: sent to those on duty at once, escalated until acknowledged."""

    __tablename__ = "officer_alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tip_id: Mapped[int | None] = mapped_column(ForeignKey("tips.id", ondelete="CASCADE"))
    handoff_id: Mapped[int | None] = mapped_column(ForeignKey("handoffs.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # emergency | red | fraud | handoff
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]
    # 0: sent to those on duty; 1: escalated to the chief; 2: to every officer.
    stage: Mapped[int] = mapped_column(Integer, default=0)
    next_escalation_at: Mapped[datetime | None] = mapped_column(index=True)
    acked_at: Mapped[datetime | None]
    acked_by: Mapped[int | None] = mapped_column(ForeignKey("officers.id", ondelete="SET NULL"))


class UnansweredQuestion(Base):
    """A question the knowledge base could not answer: the staff's to-do list for the FAQ."""

    __tablename__ = "unanswered_questions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    normalized: Mapped[str] = mapped_column(String(200), unique=True)
    example: Mapped[str] = mapped_column(Text)
    asked: Mapped[int] = mapped_column(Integer, default=1)
    # An officer's answer to a hand-off of this question: the draft of the FAQ entry.
    suggested_answer: Mapped[str | None] = mapped_column(Text)
    first_asked_at: Mapped[datetime]
    last_asked_at: Mapped[datetime]


class Handoff(Base):
    """A question handed to the officers (人工): `待答复` lists them, `答复 H<id>` answers."""

    __tablename__ = "handoffs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    openid: Mapped[str | None] = mapped_column(String(limits.OPENID), index=True)
    question: Mapped[str] = mapped_column(Text)
    # Further messages of an unanswered hand-off fold into it rather than opening another.
    repeats: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("officers.id", ondelete="SET NULL"))
    answer: Mapped[str | None] = mapped_column(Text)


class Reminder(Base):
    """A checklist reminder for the day before a planned visit to the station."""

    __tablename__ = "reminders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    openid: Mapped[str | None] = mapped_column(String(64), index=True)
    due_at: Mapped[datetime] = mapped_column(index=True)
    text: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime | None]


class JobRun(Base):
    """One run of a periodic job per period: the key lets only one process have it."""

    __tablename__ = "job_runs"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    period: Mapped[str] = mapped_column(String(32), primary_key=True)
    ran_at: Mapped[datetime]


# The patrol tables live in their own module on the same Base: importing the models is
# importing all of them (Alembic and the tests compare ``Base.metadata`` with the store).
from storage import patrol_models as _patrol_models  # noqa: E402, F401

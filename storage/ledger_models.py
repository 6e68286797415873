"""The webhook's ledger: one row per delivery (dedup, ownership, the stored reply) and the
plain-mode nonces. Same ``Base`` as the rest; ``storage.models`` re-exports them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from storage import limits
from storage.modelbase import Base

#: Ledger rows the sweeper looks for, as the partial indexes and its queries both spell them (a
#: query matches a partial index only if it spells the condition the same way): in flight,
#: still holding a reply, still naming their sender.
PROCESSING = "status = 'processing'"
REPLIED = "reply IS NOT NULL"
LINKED = "status = 'done' AND user_key IS NOT NULL"


class Delivery(Base):
    """One WeChat webhook delivery. The unique key makes retries across processes run once."""

    __tablename__ = "deliveries"
    # For the sweeper, every 2 s: only the rows it looks for (migration 0008). No index on all
    # of ``status``: SQLite's planner would take it for ``status = 'done'`` and scan them all.
    __table_args__ = tuple(
        Index(
            f"ix_deliveries_{name}", column, sqlite_where=text(rows), postgresql_where=text(rows)
        )
        for name, column, rows in (
            ("processing", "id", PROCESSING),
            ("replied", "finished_at", REPLIED),
            ("linked", "finished_at", LINKED),
        )
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(limits.DIGEST), unique=True)
    # Keyed hash of the sender: per-user order and unsubscribe, never the openid itself.
    user_key: Mapped[str | None] = mapped_column(String(limits.DIGEST), index=True)
    msg_type: Mapped[str] = mapped_column(String(limits.MSG_TYPE))
    event: Mapped[str | None] = mapped_column(String(limits.EVENT))
    # The decrypted inbound XML while it is being handled (recovery needs it); emptied once
    # done, sealed when the handler failed or the sender was over the rate limit.
    payload: Mapped[str] = mapped_column(Text)
    # processing → done | failed | limited
    status: Mapped[str] = mapped_column(String(16), default="processing")
    # The process handling it (see bot.liveness): a retry or a sweep takes over a dead one's.
    owner: Mapped[str | None] = mapped_column(String(32))
    # Plain reply XML ("" for no reply) for WeChat's retries; cleared after a few minutes.
    reply: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


class WebhookNonce(Base):
    """A (timestamp, nonce) pair seen on a plain-mode call, bound to the body it came with.

    The signature does not cover a plain body: remembering the pair for the timestamp window
    lets WeChat's retry of the same body through and refuses any other body under it.
    """

    __tablename__ = "webhook_nonces"

    nonce_key: Mapped[str] = mapped_column(String(limits.DIGEST), primary_key=True)
    body_hash: Mapped[str] = mapped_column(String(limits.DIGEST))
    seen_at: Mapped[datetime] = mapped_column(index=True)

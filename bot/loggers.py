"""Named loggers and the one helper that keeps openids out of log lines."""

from __future__ import annotations

import hashlib
import hmac
import logging

webhook = logging.getLogger("pingan.webhook")
dispatcher = logging.getLogger("pingan.dispatcher")
push = logging.getLogger("pingan.push")


def hash_openid(openid: str | None, salt: str) -> str:
    """A short keyed hash: lines about one user can be joined, not traced back to the openid."""
    if not openid:
        return "-"
    return hmac.new(salt.encode(), openid.encode(), hashlib.sha256).hexdigest()[:12]


def configure(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    # Drivers log SQL parameters (openids, tip text) at DEBUG: never let them through.
    for noisy in ("aiosqlite", "sqlalchemy.engine", "asyncpg"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

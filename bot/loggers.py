"""Named loggers and the one helper that keeps openids out of log lines."""

from __future__ import annotations

import hashlib
import hmac
import logging
import traceback

webhook = logging.getLogger("pingan.webhook")
dispatcher = logging.getLogger("pingan.dispatcher")
push = logging.getLogger("pingan.push")

#: Loggers of the database drivers, which print statements with their parameters at DEBUG.
DRIVERS = ("aiosqlite", "sqlalchemy.engine", "asyncpg")


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
    for noisy in DRIVERS:
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # Two INFO lines per job run, every minute; pingan.scheduler logs what matters.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def safe_exception(logger: logging.Logger, msg: str, *args: object, exc: BaseException) -> None:
    """Log a failure with its type and stack but not its message.

    Database errors quote the failing values (openids, message text, sealed identities) in
    their message and DETAIL; the stack and the types say where it broke without them.
    """
    kind = type(exc).__name__
    orig = getattr(exc, "orig", None)  # SQLAlchemy's DBAPIError wraps the driver's error
    if orig is not None:
        kind += f"({type(orig).__name__})"
    stack = "".join(traceback.format_tb(exc.__traceback__))
    logger.error(msg + " error=%s\n%s", *args, kind, stack.rstrip())

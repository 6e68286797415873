"""Typed errors for the WeChat API's errcodes."""

from __future__ import annotations

from typing import ClassVar


class WeChatAPIError(Exception):
    """Any non-zero errcode. Subclasses name the ones the bot reacts to."""

    codes: ClassVar[frozenset[int]] = frozenset()

    def __init__(self, errcode: int, errmsg: str, path: str) -> None:
        super().__init__(f"{path}: errcode {errcode} {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg
        self.path = path


class TokenRejected(WeChatAPIError):
    """The access_token is invalid, not the latest, or expired: refresh and try again."""

    codes = frozenset({40001, 40014, 42001})


class SystemBusy(WeChatAPIError):
    """WeChat's transient failure: retry with backoff."""

    codes = frozenset({-1})


class QuotaExceeded(WeChatAPIError):
    """A daily or per-minute quota is spent: try again later, not now."""

    codes = frozenset({45009, 45047})


class OutsideWindow(WeChatAPIError):
    """The customer-service window (48 h after the user's last message) is closed."""

    codes = frozenset({45015})


class InvalidMedia(WeChatAPIError):
    codes = frozenset({40007})


class TransportError(WeChatAPIError):
    """No usable answer at all: timeout, connection error, 5xx or a non-JSON body."""


class MediaTooLarge(WeChatAPIError):
    """A media download passed the platform's size limit for its kind (errcode -4, ours).

    The download stops there: tell the resident the file is too large (文件太大) rather than
    that it went missing. Not retried: the same file is as large the next time.
    """

    ERRCODE: ClassVar[int] = -4

    def __init__(self, path: str, *, limit: int, received: int) -> None:
        super().__init__(self.ERRCODE, f"media larger than {limit} bytes", path)
        self.limit = limit
        #: Bytes read before giving up (0 when Content-Length already said too much).
        self.received = received


_BY_CODE = {
    code: cls
    for cls in (TokenRejected, SystemBusy, QuotaExceeded, OutsideWindow, InvalidMedia)
    for code in cls.codes
}


def error_for(errcode: int, errmsg: str, path: str) -> WeChatAPIError:
    return _BY_CODE.get(errcode, WeChatAPIError)(errcode, errmsg, path)

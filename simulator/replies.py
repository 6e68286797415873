"""What came back from the bot: each attempt, and the passive reply parsed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from defusedxml import ElementTree
from wechatpy.crypto import WeChatCrypto

REPLY_TYPES = frozenset(
    {"text", "image", "voice", "video", "music", "news", "transfer_customer_service"}
)
_CONTENT = {"image": "Image", "voice": "Voice", "video": "Video"}


class InvalidReply(Exception):
    """A 200 answer WeChat could not use: the user would see "service unavailable"."""

    def __init__(self, reason: str, body: str) -> None:
        super().__init__(f"{reason}: {body[:200]!r}")
        self.reason = reason
        self.body = body


@dataclass(frozen=True, slots=True)
class Attempt:
    status: int | None  # None: no answer within the timeout, or no connection
    body: str
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Reply:
    msg_type: str
    content: str | None  # text, media id, or news titles joined by newlines
    xml: str  # the plain XML (decrypted in safe mode)
    fields: dict[str, Any] = field(default_factory=dict)

    @property
    def to_user(self) -> str:
        return str(self.fields.get("ToUserName", ""))

    @property
    def from_user(self) -> str:
        return str(self.fields.get("FromUserName", ""))

    @property
    def articles(self) -> list[dict[str, str]]:
        articles = self.fields.get("Articles")
        return articles if isinstance(articles, list) else []


@dataclass(frozen=True, slots=True)
class SentCall:
    """One message WeChat pushed: what it sent, each try, and the reply it accepted."""

    fields: dict[str, Any]
    xml: str
    attempts: tuple[Attempt, ...]
    reply: Reply | None

    @property
    def statuses(self) -> list[int | None]:
        return [a.status for a in self.attempts]

    @property
    def msg_id(self) -> int | None:
        value = self.fields.get("MsgId")
        return value if isinstance(value, int) else None


def _element(xml: str) -> Any:
    try:
        root = ElementTree.fromstring(xml)
    except Exception as exc:  # defusedxml raises its own and expat's errors
        raise InvalidReply(f"unparsable XML ({type(exc).__name__})", xml) from exc
    if root.tag != "xml":
        raise InvalidReply("root element is not <xml>", xml)
    return root


def _fields(root: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for child in root:
        if len(child) == 0:
            fields[child.tag] = child.text or ""
        elif child.tag == "Articles":
            fields[child.tag] = [{e.tag: e.text or "" for e in item} for item in child]
        else:
            fields[child.tag] = {e.tag: e.text or "" for e in child}
    return fields


def parse_reply(xml: str, openid: str) -> Reply:
    fields = _fields(_element(xml))
    msg_type = fields.get("MsgType")
    if msg_type not in REPLY_TYPES:
        raise InvalidReply(f"unknown MsgType {msg_type!r}", xml)
    if fields.get("ToUserName") != openid:
        raise InvalidReply(f"ToUserName is not the sender {openid!r}", xml)
    if not fields.get("FromUserName") or not str(fields.get("CreateTime", "")).isdigit():
        raise InvalidReply("FromUserName or CreateTime missing", xml)
    content: str | None = None
    if msg_type == "text":
        content = str(fields.get("Content", ""))
    elif msg_type in _CONTENT:
        part = fields.get(_CONTENT[msg_type])
        content = part.get("MediaId") if isinstance(part, dict) else None
    elif msg_type == "news":
        content = "\n".join(a.get("Title", "") for a in fields.get("Articles") or [])
    return Reply(str(msg_type), content, xml, fields)


def open_envelope(body: str, crypto: WeChatCrypto) -> str:
    """Check msg_signature and decrypt an encrypted reply; any fault is an InvalidReply."""
    fields = _fields(_element(body))
    missing = [n for n in ("Encrypt", "MsgSignature", "TimeStamp", "Nonce") if not fields.get(n)]
    if missing:
        raise InvalidReply(f"safe-mode reply lacks {', '.join(missing)}", body)
    try:
        plain: str = crypto.decrypt_message(
            {"Encrypt": fields["Encrypt"]},
            fields["MsgSignature"],
            fields["TimeStamp"],
            fields["Nonce"],
        )
    except Exception as exc:  # wechatpy raises signature, appid, struct and base64 errors
        raise InvalidReply(f"cannot decrypt ({type(exc).__name__})", body) from exc
    return plain

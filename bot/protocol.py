"""The WeChat webhook protocol: signatures, timestamps, safe-mode crypto, XML in and out.

Parsing uses defusedxml (refuses DTDs and entities outright) instead of wechatpy's parser,
which goes through xmltodict and yields untyped objects; crypto and reply rendering use
wechatpy.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import math
import re
import struct
import xml.etree.ElementTree as StdET

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException
from wechatpy.crypto import PrpCrypto
from wechatpy.exceptions import InvalidAppIdException
from wechatpy.replies import TextReply

from bot.message import Location, Message
from storage import limits

_REQUIRED = ("ToUserName", "FromUserName", "CreateTime", "MsgType")


class ProtocolError(Exception):
    """A request WeChat would never send; answered with ``status`` and logged with ``reason``."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def sign(*parts: str) -> str:
    """WeChat's signature: SHA-1 of the sorted, concatenated parts."""
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def signature_ok(given: str, *parts: str) -> bool:
    return hmac.compare_digest(given.encode(), sign(*parts).encode())


def check_timestamp(timestamp: str, *, now: float, max_skew: int) -> None:
    try:
        ts = int(timestamp)
    except ValueError:
        raise ProtocolError(400, "timestamp is not a number") from None
    if abs(now - ts) > max_skew:
        raise ProtocolError(403, "timestamp outside the allowed window")


def parse_xml(body: bytes | str) -> dict[str, str]:
    """Parse a flat WeChat XML document into its child elements' texts.

    Nested elements (``SendLocationInfo``, ``ScanCodeInfo``…) are flattened into their
    leaves, which is how WeChat's own documentation names them.
    """
    try:
        root = SafeET.fromstring(body, forbid_dtd=True)
    except DefusedXmlException:
        raise ProtocolError(400, "XML with a DTD or entities") from None
    except (StdET.ParseError, ValueError):
        raise ProtocolError(400, "malformed XML") from None
    if root.tag != "xml":
        raise ProtocolError(400, "root element is not <xml>")
    fields: dict[str, str] = {}
    for element in root.iter():
        if element is not root and len(element) == 0:
            fields[element.tag] = (element.text or "").strip()
    return fields


class SafeMode:
    """AES safe mode with the account's EncodingAESKey (wechatpy's PrpCrypto does the AES)."""

    def __init__(self, *, token: str, aes_key: str, appid: str) -> None:
        msg = "PINGAN_WECHAT_AES_KEY must be the 43-character EncodingAESKey"
        try:
            key = binascii.a2b_base64(aes_key + "=")
        except binascii.Error:
            raise ValueError(msg) from None
        if len(aes_key) != 43 or len(key) != 32:
            raise ValueError(msg)
        self.token = token
        self.appid = appid
        self._crypto = PrpCrypto(key)

    def decrypt(self, encrypted: str, *, msg_signature: str, timestamp: str, nonce: str) -> str:
        if not signature_ok(msg_signature, self.token, timestamp, nonce, encrypted):
            raise ProtocolError(403, "bad msg_signature")
        try:
            text: str = self._crypto.decrypt(encrypted, self.appid)
        except InvalidAppIdException:
            raise ProtocolError(400, "encrypted for another appid") from None
        # wechatpy passes on whatever a corrupted ciphertext makes the unpadding raise.
        except (ValueError, struct.error, binascii.Error, UnicodeDecodeError, IndexError):
            raise ProtocolError(400, "undecryptable body") from None
        return text

    def encrypt(self, plain_xml: str, *, nonce: str, timestamp: str) -> str:
        encrypted = self._crypto.encrypt(plain_xml, self.appid).decode()
        signature = sign(self.token, timestamp, nonce, encrypted)
        return (
            f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt>"
            f"<MsgSignature><![CDATA[{signature}]]></MsgSignature>"
            f"<TimeStamp>{timestamp}</TimeStamp><Nonce><![CDATA[{nonce}]]></Nonce></xml>"
        )


_OPENID = re.compile(r"[A-Za-z0-9_-]+")  # openids are URL-safe base64
_DIGITS = re.compile(r"[0-9]+")
#: A map's zoom level (WeChat sends 1–20); it is not stored, only bounded.
_SCALE_DIGITS = 3
#: Events whose EventKey is the menu's URL or page path rather than a key.
_URL_EVENTS = frozenset({"view", "view_miniprogram"})


def _bounded(value: str, name: str, limit: int) -> str:
    """A value that must fit its column: longer means WeChat did not send it, so refuse."""
    if len(value) > limit:
        raise ProtocolError(400, f"{name} longer than {limit} characters")
    return value


def _digits(value: str, name: str, limit: int) -> int:
    # int() would also take "+1", "1_000" and non-ASCII digits; WeChat sends ASCII digits.
    if value.startswith("-") and _DIGITS.fullmatch(value[1:]):
        raise ProtocolError(400, f"{name} is negative")
    if not _DIGITS.fullmatch(value):
        raise ProtocolError(400, f"{name} is not a number")
    if len(value) > limit:
        raise ProtocolError(400, f"{name} longer than {limit} digits")
    return int(value)


def _number(fields: dict[str, str], name: str, bound: float) -> float:
    """A finite float within ±``bound``: NaN, inf and 9999° are not places on Earth."""
    try:
        number = float(fields[name])
    except KeyError:
        raise ProtocolError(400, f"malformed location: no {name}") from None
    except ValueError:
        raise ProtocolError(400, f"{name} is not a number") from None
    if not math.isfinite(number) or abs(number) > bound:
        raise ProtocolError(400, f"{name} out of range")
    return number


def _location(fields: dict[str, str]) -> Location | None:
    if "Location_X" in fields:
        scale = fields.get("Scale")
        return Location(
            lat=_number(fields, "Location_X", 90),
            lng=_number(fields, "Location_Y", 180),
            # Phones send whatever the map shows as the place's name: keep what fits.
            label=fields.get("Label", "")[: limits.LOCATION_LABEL],
            scale=_digits(scale, "Scale", _SCALE_DIGITS) if scale else None,
        )
    if "Latitude" in fields:
        location = Location(
            lat=_number(fields, "Latitude", 90), lng=_number(fields, "Longitude", 180)
        )
        if fields.get("Precision"):
            precision = _number(fields, "Precision", math.inf)
            if precision < 0:
                raise ProtocolError(400, "Precision out of range")
        return location
    return None


def to_message(fields: dict[str, str]) -> Message:
    """The typed message, or a ProtocolError(400) for anything outside the platform's rules.

    Every value that reaches a column is checked against ``storage.limits`` here, so SQLite
    (which ignores VARCHAR sizes) and PostgreSQL (which refuses longer values) behave alike.
    """
    missing = [name for name in _REQUIRED if not fields.get(name)]
    if missing:
        raise ProtocolError(400, f"missing fields: {', '.join(missing)}")
    openid = _bounded(fields["FromUserName"], "FromUserName", limits.OPENID)
    if not _OPENID.fullmatch(openid):
        raise ProtocolError(400, "FromUserName is not an openid")
    account = _bounded(fields["ToUserName"], "ToUserName", limits.ACCOUNT)
    create_time = _digits(fields["CreateTime"], "CreateTime", limits.CREATE_TIME_DIGITS)
    # Lower-cased before the check: "İ".lower() is two characters.
    msg_type = _bounded(fields["MsgType"].lower(), "MsgType", limits.MSG_TYPE)
    event = _bounded(fields.get("Event", "").lower(), "Event", limits.EVENT) or None
    if msg_type == "event" and event is None:
        raise ProtocolError(400, "event without Event")
    msg_id = fields.get("MsgId") or None
    if msg_type != "event" and msg_id is None:
        raise ProtocolError(400, "message without MsgId")
    if msg_id is not None:
        _digits(msg_id, "MsgId", limits.MSG_ID_DIGITS)
    key_limit = limits.MENU_URL if event in _URL_EVENTS else limits.EVENT_KEY
    event_key = _bounded(fields.get("EventKey", ""), "EventKey", key_limit)
    scene = None
    if event == "subscribe" and event_key.startswith("qrscene_"):
        scene = event_key.removeprefix("qrscene_")
    elif event == "scan":
        scene = event_key
    # Text is clipped, not refused: a 400 makes WeChat retry and then drop the message, and
    # a resident's report must not be lost for being long (the platform itself caps text at
    # 2048 bytes, so only a changed platform or a forgery reaches this).
    content = fields.get("Content", "")[: limits.CONTENT_CHARS]
    recognition = fields.get("Recognition", "")[: limits.CONTENT_CHARS]
    return Message(
        openid=openid,
        account=account,
        create_time=create_time,
        msg_type=msg_type,
        msg_id=msg_id,
        content=content,
        media_id=fields.get("MediaId") or None,
        pic_url=fields.get("PicUrl") or None,
        recognition=recognition or None,
        location=_location(fields),
        event=event,
        event_key=event_key,
        scene=scene or None,
        fields=fields,
    )


def dedup_source(message: Message) -> str:
    """DESIGN.md's dedup key before it is keyed (the ledger stores an HMAC of it, never this):
    MsgId for messages; sender, time, event and key for events."""
    if message.msg_id:
        return f"{message.account}|msg|{message.msg_id}"
    return "|".join(
        (
            message.account,
            "event",
            message.openid,
            str(message.create_time),
            message.event or "",
            message.event_key,
        )
    )


_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def cdata_safe(text: str) -> str:
    """Keep user text from breaking the CDATA section that wechatpy writes around it.

    ``]]>`` would close the section early; control characters are illegal in XML at all.
    """
    return _XML_ILLEGAL.sub("", text).replace("]]>", "]]]]><![CDATA[>")


#: WeChat drops text replies longer than 2048 bytes; keep a margin for the CDATA splits.
MAX_REPLY_BYTES = 2000


def clip(text: str, limit: int = MAX_REPLY_BYTES) -> str:
    """Cut text to ``limit`` UTF-8 bytes on a character boundary, marking the cut."""
    if len(text.encode()) <= limit:
        return text
    marker = "…"
    cut = text.encode()[: limit - len(marker.encode())].decode(errors="ignore")
    return cut + marker


def render_text_reply(*, account: str, openid: str, content: str, now: int) -> str:
    reply = TextReply(source=account, target=openid, content=cdata_safe(clip(content)), time=now)
    rendered: str = reply.render()
    return rendered

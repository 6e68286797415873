"""The WeChat webhook protocol: signatures, timestamps, safe-mode crypto, XML in and out.

Parsing uses defusedxml (refuses DTDs and entities outright) instead of wechatpy's parser,
which goes through xmltodict and yields untyped objects; crypto and reply rendering use
wechatpy.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import re
import struct
import xml.etree.ElementTree as StdET

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException
from wechatpy.crypto import PrpCrypto
from wechatpy.exceptions import InvalidAppIdException
from wechatpy.replies import TextReply

from bot.message import Location, Message

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


def _location(fields: dict[str, str]) -> Location | None:
    try:
        if "Location_X" in fields:
            scale = fields.get("Scale")
            return Location(
                lat=float(fields["Location_X"]),
                lng=float(fields["Location_Y"]),
                label=fields.get("Label", ""),
                scale=int(scale) if scale else None,
            )
        if "Latitude" in fields:
            return Location(lat=float(fields["Latitude"]), lng=float(fields["Longitude"]))
    except (KeyError, ValueError):
        raise ProtocolError(400, "malformed location") from None
    return None


def to_message(fields: dict[str, str]) -> Message:
    missing = [name for name in _REQUIRED if not fields.get(name)]
    if missing:
        raise ProtocolError(400, f"missing fields: {', '.join(missing)}")
    try:
        create_time = int(fields["CreateTime"])
    except ValueError:
        raise ProtocolError(400, "CreateTime is not a number") from None
    msg_type = fields["MsgType"].lower()
    event = fields.get("Event", "").lower() or None
    if msg_type == "event" and event is None:
        raise ProtocolError(400, "event without Event")
    if msg_type != "event" and not fields.get("MsgId"):
        raise ProtocolError(400, "message without MsgId")
    event_key = fields.get("EventKey", "")
    scene = None
    if event == "subscribe" and event_key.startswith("qrscene_"):
        scene = event_key.removeprefix("qrscene_")
    elif event == "scan":
        scene = event_key
    return Message(
        openid=fields["FromUserName"],
        account=fields["ToUserName"],
        create_time=create_time,
        msg_type=msg_type,
        msg_id=fields.get("MsgId") or None,
        content=fields.get("Content", ""),
        media_id=fields.get("MediaId") or None,
        pic_url=fields.get("PicUrl") or None,
        recognition=fields.get("Recognition") or None,
        location=_location(fields),
        event=event,
        event_key=event_key,
        scene=scene or None,
        fields=fields,
    )


def dedup_key(message: Message) -> str:
    """Key per DESIGN.md, hashed so the ledger holds no raw openid."""
    if message.msg_id:
        raw = f"{message.account}|msg|{message.msg_id}"
    else:
        raw = "|".join(
            (
                message.account,
                "event",
                message.openid,
                str(message.create_time),
                message.event or "",
                message.event_key,
            )
        )
    return hashlib.sha256(raw.encode()).hexdigest()


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

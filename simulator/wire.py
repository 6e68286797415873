"""The webhook's wire format: WeChat's XML, its signatures and the safe-mode envelope."""

from __future__ import annotations

import base64
from collections.abc import Mapping

from wechatpy.crypto import PrpCrypto
from wechatpy.utils import WeChatSigner

Value = str | int | float


def cdata(value: str) -> str:
    # "]]>" would close the section early: split it across two sections.
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def to_xml(fields: Mapping[str, Value]) -> str:
    """Strings go in CDATA, numbers bare, as WeChat writes them."""
    parts = []
    for name, value in fields.items():
        if isinstance(value, str):
            text = cdata(value)
        elif isinstance(value, float):
            text = repr(value)
        else:
            text = str(value)
        parts.append(f"<{name}>{text}</{name}>")
    return "<xml>" + "".join(parts) + "</xml>"


def sign(*values: str) -> str:
    """sha1 over the sorted values: token, timestamp, nonce (and Encrypt for msg_signature)."""
    signer = WeChatSigner()
    signer.add_data(*values)
    signature: str = signer.signature
    return signature


def aes_key_bytes(encoding_aes_key: str) -> bytes:
    key = base64.b64decode(encoding_aes_key + "=")
    if len(key) != 32:
        msg = "EncodingAESKey must be 43 characters of base64 (32 bytes)"
        raise ValueError(msg)
    return key


def encrypt(xml: str, *, encoding_aes_key: str, appid: str) -> str:
    ciphertext: bytes = PrpCrypto(aes_key_bytes(encoding_aes_key)).encrypt(xml, appid)
    return ciphertext.decode()


def envelope(to_user: str, encrypted: str) -> str:
    """The safe-mode body WeChat posts: the account id and the ciphertext only."""
    return to_xml({"ToUserName": to_user, "Encrypt": encrypted})

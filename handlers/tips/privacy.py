"""Keeping reporters safe: sealed identities, a lookup hash, and masking of personal numbers.

The seal uses Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``) with a key from
``PINGAN_SEAL_KEY``: an anonymous tip keeps its reporter's openid only in that form, so the
bot can still reach them while officers, logs and exports never see who it was. The lookup
hash (HMAC-SHA256 keyed by the same secret) lets "my tips" find them without unsealing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from cryptography.fernet import Fernet, InvalidToken


class Sealer:
    def __init__(self, secret: str) -> None:
        if len(secret) < 16:
            msg = "PINGAN_SEAL_KEY must be at least 16 characters"
            raise ValueError(msg)
        material = hashlib.sha256(("pingan-seal:" + secret).encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(material))
        self._mac_key = hashlib.sha256(("pingan-lookup:" + secret).encode()).digest()

    def seal(self, openid: str) -> str:
        return self._fernet.encrypt(openid.encode()).decode()

    def unseal(self, sealed: str) -> str | None:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            return None

    def lookup(self, openid: str) -> str:
        return hmac.new(self._mac_key, openid.encode(), hashlib.sha256).hexdigest()


# 18-digit resident ID (last may be X), bank cards (13–19 digits, spaces allowed), mobiles.
_ID = re.compile(r"(?<!\d)(\d{6})\d{8}(\d{3}[\dXx])(?!\d)")
_CARD = re.compile(r"(?<![\d*])\d(?: ?\d){12,18}(?![\d*])")
_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def _mask_card(match: re.Match[str]) -> str:
    digits = match[0].replace(" ", "")
    return f"{digits[:4]} **** **** {digits[-4:]}"


def mask(text: str) -> str:
    """Mask ID numbers, bank cards and mobile numbers for lists, logs and exports."""
    text = _ID.sub(lambda m: f"{m[1]}********{m[2]}", text)
    text = _CARD.sub(_mask_card, text)
    return _MOBILE.sub(lambda m: f"{m[1]}****{m[2]}", text)

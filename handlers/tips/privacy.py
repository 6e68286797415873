"""Keeping reporters safe in what officers read: personal numbers masked.

Who reported a tip is sealed with the key (``bot.keys``); officers never see it. They see a
name and phone only on a named tip, where the reporter chose to give them.
"""

from __future__ import annotations

import re

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

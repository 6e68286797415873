"""The seal keys (``PINGAN_SEAL_KEY``): sealing, keyed hashes and rotation.

The setting holds one key or a comma-separated list, newest first: the newest seals and keys
the hashes, every key can unseal, so a key is replaced by putting the new one in front,
running ``pingan keys rotate`` and then dropping the old one. A key is 32 random bytes in
base64 (``pingan keys new``); each purpose gets its own subkey through HKDF, so a dump of the
store gives nothing to guess a passphrase against and a hash made for one purpose cannot be
matched against one made for another.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
from hashlib import sha256
from itertools import pairwise

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["InvalidToken", "Keys", "WeakKey", "new_key"]

KEY_BYTES = 32
# Values that were published as examples (deploy/pingan.env.example before it shipped none).
PUBLISHED = frozenset({"change-me-to-a-long-random-secret", "change-me"})
# A repeated word or character repeats most of its 3-character pieces; in a random key of 43
# characters 95 % or more are distinct (hex keys: 90 %).
MIN_DISTINCT_TRIGRAMS = 0.75
# Successive differences of a run (abc…, 0123…) take a few values; of a random key, 20 or more.
MIN_DISTINCT_STEPS = 8


def new_key() -> str:
    """A fresh key: 32 random bytes, URL-safe base64 without padding (43 characters)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).rstrip(b"=").decode()


class WeakKey(ValueError):
    """A key setting that is missing, malformed, too short, published or guessable."""


def _derive(key: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(key)


def _decode(text: str) -> bytes | None:
    """Base64 in either alphabet, padding optional; None when it is not base64 at all."""
    standard = text.replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(standard + "=" * (-len(standard) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def _guessable(text: str) -> bool:
    """Obviously low entropy: a repeated character or word (aaa…, abab…), or a run (abcd…)."""
    trigrams = [text[i : i + 3] for i in range(len(text) - 2)]
    steps = {ord(b) - ord(a) for a, b in pairwise(text)}
    return (
        len(set(trigrams)) < MIN_DISTINCT_TRIGRAMS * len(trigrams)
        or len(steps) < MIN_DISTINCT_STEPS
    )


def _check(text: str, *, where: str) -> bytes:
    hint = "make one with `pingan keys new`"
    if not text:
        raise WeakKey(f"{where} is empty; {hint}")
    if text in PUBLISHED:
        raise WeakKey(f"{where} is a published example value; {hint}")
    raw = _decode(text)
    if raw is None:
        raise WeakKey(f"{where} is not base64; {hint}")
    if len(raw) < KEY_BYTES:
        raise WeakKey(f"{where} decodes to {len(raw)} bytes, needs {KEY_BYTES}; {hint}")
    if _guessable(text):
        raise WeakKey(f"{where} is not random (a repeated or patterned value); {hint}")
    return raw


class Keys:
    """Keys from the setting, newest first. Build with :meth:`from_setting`."""

    def __init__(self, raw: list[bytes]) -> None:
        self._newest = raw[0]
        fernets = [Fernet(base64.urlsafe_b64encode(_derive(k, b"pingan seal"))) for k in raw]
        self._first = fernets[0]
        self._all = MultiFernet(fernets)
        self._macs: dict[str, bytes] = {}
        #: Salt for hashing openids in logs when ``PINGAN_LOG_SALT`` is unset.
        self.log_salt = _derive(self._newest, b"pingan log salt").hex()

    @classmethod
    def from_setting(cls, value: str, *, setting: str = "PINGAN_SEAL_KEY") -> Keys:
        """Parse and check the setting; :class:`WeakKey` names the setting, never the key."""
        texts = [part.strip() for part in value.split(",")]
        raw: list[bytes] = []
        for n, text in enumerate(texts, start=1):
            where = setting if len(texts) == 1 else f"{setting} (key {n} of {len(texts)})"
            key = _check(text, where=where)
            if key in raw:
                raise WeakKey(f"{where} repeats key {raw.index(key) + 1}; list each key once")
            raw.append(key)
        return cls(raw)

    def __repr__(self) -> str:
        return "Keys(…)"  # never the key material, even in a traceback

    def seal(self, text: str) -> str:
        """Encrypt with the newest key (random IV: equal texts give unrelated tokens)."""
        return self._first.encrypt(text.encode()).decode()

    def unseal(self, token: str) -> str | None:
        """The text, or None when no key can read the token (or it is not a token)."""
        try:
            return self._all.decrypt(token.encode()).decode()
        except InvalidToken:
            return None

    def newest_seals(self, token: str) -> bool:
        """Whether the newest key can read the token (so rotating it would change nothing)."""
        try:
            self._first.decrypt(token.encode())
        except InvalidToken:
            return False
        return True

    def rotate(self, token: str) -> str:
        """Re-seal under the newest key; raises :class:`InvalidToken` when no key can read it."""
        return self._all.rotate(token.encode()).decode()

    def mac(self, domain: str, value: str) -> str:
        """Keyed hash (hex HMAC-SHA256) of value, with a subkey of the newest key per domain.

        Domains keep uses apart: a dedup key and a user key of the same openid differ.
        """
        key = self._macs.get(domain)
        if key is None:
            key = self._macs[domain] = _derive(self._newest, b"pingan mac " + domain.encode())
        return hmac.new(key, value.encode(), sha256).hexdigest()

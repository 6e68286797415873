"""Enrolment codes: read aloud and typed on phones, so no 0/O, 1/I/L."""

from __future__ import annotations

import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_code(prefix: str) -> str:
    """A 10-character code: ``prefix`` (M for an officer, P for a volunteer) and 9 random."""
    return prefix + "".join(secrets.choice(ALPHABET) for _ in range(9))

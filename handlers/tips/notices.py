"""The reporter's notice for each state of a tip, from ``notices.yaml`` (the station's words)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.i18n import _

NOTICES_FILE = Path(__file__).with_name("notices.yaml")
PLACEHOLDERS = frozenset({"code", "status", "note"})


@dataclass(frozen=True)
class Notice:
    state: str
    text: str
    note: str | None = None  # the line added when the officer gave an outcome or reason
    after: str | None = None  # what the reporter may do next (rate it…)

    def render(self, *, code: str, status: str, note: str | None) -> str:
        values = {"code": code, "status": status, "note": note or ""}
        lines = [_(self.text).format(**values)]
        if note and self.note:
            lines.append(_(self.note).format(**values))
        if self.after:
            lines.append(_(self.after).format(**values))
        return "\n".join(lines)


def _check(notice: Notice) -> Notice:
    """A typo in a placeholder must stop the start-up, not a notice to a reporter."""
    for text in (notice.text, notice.note, notice.after):
        try:
            (text or "").format(**dict.fromkeys(PLACEHOLDERS, ""))
        except (KeyError, IndexError, ValueError) as exc:
            msg = f"notices.yaml, state {notice.state}: bad placeholder in {text!r} ({exc})"
            raise ValueError(msg) from None
    return notice


def load_notices(required: Iterable[str], path: Path = NOTICES_FILE) -> dict[str, Notice]:
    """Every state in ``required`` needs its notice: a reporter is never left untold."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    notices = {n["state"]: _check(Notice(**n)) for n in raw["notices"]}
    missing = set(required) - notices.keys()
    if missing:
        msg = f"notices.yaml has no notice for: {', '.join(sorted(missing))}"
        raise ValueError(msg)
    return notices

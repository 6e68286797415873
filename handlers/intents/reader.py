"""Reading what a resident wants from free text: word lists from ``intents.yaml``, compiled
once into a handful of regular expressions (no model, a few microseconds a message).

Emergencies are not read here: ``handlers.tips.emergency`` runs before everything.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml

INTENTS_FILE = Path(__file__).with_name("intents.yaml")
GAP = 6  # "…" inside a word: up to this many characters between its parts
CUT = "_"  # what a removed false friend leaves; "…" does not reach across it
NEVER = re.compile(r"(?!)")
#: Spaces and punctuation (ASCII, CJK, full-width, general); emoji stay (👍 is a thank-you).
PUNCTUATION = re.compile(
    r"[\s!-/:-@\[-`{-~\u2010-\u205e\u3000-\u303f\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40"
    r"\uff5b-\uff65]+"
)
#: Full-width letters and digits as ASCII (what NFKC would do for them, 40× faster).
HALF_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
STOP_CHARS = 14  # a wish to stop said in passing is short: "搞错了，这个不报了"
SHORT = 24  # characters: longer messages are never only a greeting or only "stop"

Kind = Literal["cancel", "greeting", "thanks", "my_reports", "fraud", "report", "other"]


@dataclass(frozen=True)
class Intent:
    kind: Kind
    category: str | None = None  # for a report: a key of tips.yaml's categories
    described: bool = False  # the message itself says what happened


def words_pattern(words: Iterable[str]) -> re.Pattern[str]:
    """One alternation of the words, longest first; "…" becomes a short gap."""
    between = f"[^{CUT}]{{0,{GAP}}}"
    parts = sorted({str(w).lower() for w in words if w}, key=len, reverse=True)
    joined = "|".join(between.join(map(re.escape, p.split("…"))) for p in parts)
    return re.compile(joined) if joined else NEVER


def _only(words: Iterable[str], fillers: re.Pattern[str]) -> re.Pattern[str]:
    """The whole message is made of ``words`` and fillers (at least one word)."""
    word = words_pattern(words).pattern
    filler = fillers.pattern
    return re.compile(f"^(?:{filler})*(?:(?:{word})(?:{filler})*)+$")


@dataclass(frozen=True)
class IntentRules:
    typos: dict[str, str]
    cancel: re.Pattern[str]
    stop: re.Pattern[str]
    asks: re.Pattern[str]
    greeting: re.Pattern[str]
    thanks: re.Pattern[str]
    report_phrases: re.Pattern[str]
    report_about: re.Pattern[str]
    report_status: re.Pattern[str]
    fraud_victim: re.Pattern[str]
    fraud_scam: re.Pattern[str]
    fraud_money: re.Pattern[str]
    fraud_false_friends: re.Pattern[str]
    hypothetical: re.Pattern[str]
    wish: re.Pattern[str]
    asking: re.Pattern[str]
    hearsay: re.Pattern[str]
    bare: re.Pattern[str]
    false_friends: re.Pattern[str]
    service: re.Pattern[str]
    categories: dict[str, re.Pattern[str]]  # in the order they are tried
    place_words: re.Pattern[str]
    place_unknown: re.Pattern[str]

    @classmethod
    def from_data(cls, raw: dict[str, Any]) -> IntentRules:
        fillers = words_pattern(raw["fillers"])
        mine, fraud, report = raw["my_reports"], raw["fraud"], raw["report"]
        return cls(
            typos={str(k): str(v) for k, v in raw.get("typos", {}).items()},
            cancel=_only(raw["cancel"], fillers),
            stop=words_pattern(raw["stop"]),
            asks=words_pattern(raw["asks"]),
            greeting=_only(raw["greeting"], fillers),
            thanks=_only([*raw["greeting"], *raw["thanks"]], fillers),
            report_phrases=words_pattern(mine["phrases"]),
            report_about=words_pattern(mine["about"]),
            report_status=words_pattern(mine["status"]),
            fraud_victim=words_pattern(fraud["victim"]),
            fraud_scam=words_pattern(fraud["scams"]),
            fraud_money=words_pattern(fraud["money"]),
            fraud_false_friends=words_pattern(fraud["false_friends"]),
            hypothetical=words_pattern(fraud["hypothetical"]),
            wish=words_pattern(report["wish"]),
            asking=words_pattern(report["asking"]),
            hearsay=words_pattern(report["hearsay"]),
            bare=words_pattern(report["bare"]),
            false_friends=words_pattern(report["false_friends"]),
            service=words_pattern(report["service"]),
            categories={key: words_pattern(words) for key, words in report["categories"].items()},
            place_words=words_pattern(raw["place"]["words"]),
            place_unknown=words_pattern(raw["place"]["unknown"]),
        )

    def normalise(self, text: str) -> str:
        plain = text.translate(HALF_WIDTH).lower()
        for typo, right in self.typos.items():
            plain = plain.replace(typo, right)
        return PUNCTUATION.sub("", plain)

    def stops(self, text: str, *, strict: bool = False) -> bool:
        """A wish to stop. ``strict``: the message is nothing but that (in a step whose answer
        is any text, "他说不用了就走了" is a description, not a cancel)."""
        kind = self.read(text).kind
        if kind == "cancel":
            return True
        plain = self.normalise(text)
        return (
            not strict
            and kind == "other"
            and len(plain) <= STOP_CHARS
            and bool(self.stop.search(plain))
            and not self.asks.search(plain)
        )

    def read(self, text: str) -> Intent:
        plain = self.normalise(text)
        if not plain:
            return Intent("other")
        if len(plain) <= SHORT:  # only a short message can be nothing but a greeting
            for kind, pattern in (
                ("cancel", self.cancel),
                ("greeting", self.greeting),
                ("thanks", self.thanks),
            ):
                if pattern.match(plain):
                    return Intent(kind)  # type: ignore[arg-type]
        if self.report_phrases.search(plain) or (
            self.report_about.search(plain) and self.report_status.search(plain)
        ):
            return Intent("my_reports")
        if self.hearsay.search(plain) and not self.wish.search(plain):
            return Intent("other")  # news, a rumour, a story that is over
        if self._defrauded(self.fraud_false_friends.sub(CUT, plain)):
            return Intent("fraud", "fraud", described=True)
        return self._report(plain)

    def place(self, text: str) -> Literal["place", "unknown", "unclear"]:
        """Whether the answer to "where did it happen" is a place, "I don't know", or neither."""
        plain = self.normalise(text)
        if self.place_unknown.search(plain) and len(plain) <= SHORT:
            return "unknown"
        if re.search(r"\d", plain) or self.place_words.search(plain):
            return "place"
        return "unclear"

    def _defrauded(self, plain: str) -> bool:
        if self.hypothetical.search(plain):
            return False  # "要是碰上诈骗了应该咋办": asking ahead
        if self.fraud_victim.search(plain):
            return True
        return bool(self.fraud_scam.search(plain) and self.fraud_money.search(plain))

    def category_of(self, text: str) -> str | None:
        """The tip category what someone says happened names, if any (a patrol's report)."""
        return self._category(self.false_friends.sub(CUT, self.normalise(text)))

    def _category(self, cleaned: str) -> str | None:
        return next((key for key, words in self.categories.items() if words.search(cleaned)), None)

    def _report(self, plain: str) -> Intent:
        cleaned = self.false_friends.sub(CUT, plain)
        category = self._category(cleaned)
        wish = self.wish.search(cleaned)
        if wish is not None and self.asking.search(cleaned):
            wish = None  # "先报警还是先叫救护车": a question about reporting, for the FAQ
        if wish is None:
            # "身份证被偷了怎么补办" asks for a service: the knowledge base answers that.
            if category is None or self.service.search(cleaned):
                return Intent("other")
            return Intent("report", category, described=True)
        # Beyond the wish, the category's name and small words, the message tells what happened.
        rest = self.bare.sub("", self.wish.sub("", cleaned))
        if category is not None:
            rest = self.categories[category].sub("", rest, count=1)
        return Intent("report", category, described=category is not None and len(rest) >= 3)


@cache
def load_intents(path: Path = INTENTS_FILE) -> IntentRules:
    return IntentRules.from_data(yaml.safe_load(path.read_text(encoding="utf-8")))

"""A reporter's own tips, kept sealed on their profile.

"My tips", the daily limit and ratings need to know which tips are the asker's. A per-person
hash on each tip would let anyone with a dump join a person's anonymous tips to their named
ones; instead the profile holds the list of tip ids, sealed with the key, and the tips hold
nothing that repeats from one tip of a person to the next. Unsubscribing deletes the
profile, and with it the only link.
"""

from __future__ import annotations

import json

from bot.keys import Keys
from storage.models import User

#: Enough for years of a resident's reports; the oldest fall off a longer list.
KEEP = 200


class ReporterIndex:
    def __init__(self, user: User | None, keys: Keys) -> None:
        self._user = user
        self._keys = keys

    def ids(self) -> list[int]:
        if self._user is None or not self._user.tips_sealed:
            return []
        opened = self._keys.unseal(self._user.tips_sealed)
        return [int(i) for i in json.loads(opened)] if opened else []

    def add(self, tip_id: int) -> None:
        if self._user is None:
            return
        ids = [*self.ids(), tip_id][-KEEP:]
        self._user.tips_sealed = self._keys.seal(json.dumps(ids))

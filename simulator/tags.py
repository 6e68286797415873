"""User tags: at most 100 per account, 20 per user, 50 openids per batch call."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from simulator.errors import ApiError, ok
from simulator.request import ApiRequest, require_int
from simulator.users import Follower, Users

MAX_TAGS = 100
MAX_TAGS_PER_USER = 20
MAX_BATCH = 50
MAX_NAME = 30
MAX_MEMBERS_TO_DELETE = 100_000
#: The system's own tags (0, 1 and the star group 2): listed but never edited or assigned.
SYSTEM_TAGS = {2: "星标组"}
RESERVED_IDS = frozenset({0, 1, 2})


@dataclass(slots=True)
class Tag:
    id: int
    name: str


class Tags:
    def __init__(self, users: Users) -> None:
        self._users = users
        self._tags: dict[int, Tag] = {}
        self._ids = itertools.count(100)

    def _count(self, tag_id: int) -> int:
        return sum(1 for u in self._users.all() if u.subscribed and tag_id in u.tags)

    def _name(self, tag: Any, *, exclude: int | None = None) -> str:
        name = tag.get("name") if isinstance(tag, dict) else None
        if not isinstance(name, str) or not name.strip():
            raise ApiError(45157)
        if len(name) > MAX_NAME:
            raise ApiError(45158)
        taken = {t.name for t in self._tags.values() if t.id != exclude}
        taken.update(SYSTEM_TAGS.values())
        if name in taken:
            raise ApiError(45157)
        return name

    def _editable(self, tag: Any) -> Tag:
        tag_id = require_int(tag.get("id") if isinstance(tag, dict) else None, 45159)
        if tag_id in RESERVED_IDS:
            raise ApiError(45058)
        found = self._tags.get(tag_id)
        if found is None:
            raise ApiError(45159)
        return found

    def ids(self) -> set[int]:
        return set(self._tags)

    # -- endpoints ------------------------------------------------------------------------

    def create(self, request: ApiRequest) -> dict[str, Any]:
        """POST /cgi-bin/tags/create {"tag": {"name": ...}}"""
        tag = request.body().get("tag")
        name = self._name(tag)
        if len(self._tags) >= MAX_TAGS:
            raise ApiError(45056)
        created = Tag(next(self._ids), name)
        self._tags[created.id] = created
        return {"tag": {"id": created.id, "name": created.name}}

    def get(self, request: ApiRequest) -> dict[str, Any]:
        """GET /cgi-bin/tags/get"""
        named = [*SYSTEM_TAGS.items(), *((t.id, t.name) for t in self._tags.values())]
        return {"tags": [{"id": i, "name": n, "count": self._count(i)} for i, n in named]}

    def update(self, request: ApiRequest) -> dict[str, Any]:
        """POST /cgi-bin/tags/update {"tag": {"id": ..., "name": ...}}"""
        tag = request.body().get("tag")
        found = self._editable(tag)
        found.name = self._name(tag, exclude=found.id)
        return ok()

    def delete(self, request: ApiRequest) -> dict[str, Any]:
        """POST /cgi-bin/tags/delete {"tag": {"id": ...}}: also untags its members."""
        found = self._editable(request.body().get("tag"))
        if self._count(found.id) > MAX_MEMBERS_TO_DELETE:
            raise ApiError(45057)
        del self._tags[found.id]
        for user in self._users.all():
            if found.id in user.tags:
                user.tags.remove(found.id)
        return ok()

    def _batch(self, request: ApiRequest) -> tuple[int, list[Follower]]:
        body = request.body()
        openids = body.get("openid_list")
        if not isinstance(openids, list) or not openids or len(openids) > MAX_BATCH:
            raise ApiError(40032)
        tag_id = require_int(body.get("tagid"), 45159)
        if tag_id not in self._tags:
            raise ApiError(45159)
        users = [self._users.get(openid) for openid in openids]
        return tag_id, users

    def batch_tag(self, request: ApiRequest) -> dict[str, Any]:
        """POST /cgi-bin/tags/members/batchtagging {"openid_list": [...], "tagid": ...}"""
        tag_id, users = self._batch(request)
        # All or nothing: one user at the limit fails the whole call.
        if any(tag_id not in u.tags and len(u.tags) >= MAX_TAGS_PER_USER for u in users):
            raise ApiError(45059)
        for user in users:
            if tag_id not in user.tags:
                user.tags.append(tag_id)
        return ok()

    def batch_untag(self, request: ApiRequest) -> dict[str, Any]:
        """POST /cgi-bin/tags/members/batchuntagging {"openid_list": [...], "tagid": ...}"""
        tag_id, users = self._batch(request)
        for user in users:
            if tag_id in user.tags:
                user.tags.remove(tag_id)
        return ok()

    def of_user(self, request: ApiRequest) -> dict[str, Any]:
        """POST /cgi-bin/tags/getidlist {"openid": ...}"""
        user = self._users.get(request.body().get("openid"))
        return {"tagid_list": list(user.tags)}

    def members(self, request: ApiRequest) -> dict[str, Any]:
        """POST /cgi-bin/user/tag/get {"tagid": ..., "next_openid": ""}: 10 000 a page."""
        body = request.body()
        tag_id = require_int(body.get("tagid"), 45159)
        if tag_id not in self._tags and tag_id not in SYSTEM_TAGS:
            raise ApiError(45159)
        members = [u.openid for u in self._users.all() if u.subscribed and tag_id in u.tags]
        after = body.get("next_openid") or ""
        start = members.index(after) + 1 if after in members else 0
        page = members[start : start + 10_000]
        answer: dict[str, Any] = {"count": len(page), "next_openid": page[-1] if page else ""}
        if page:
            answer["data"] = {"openid": page}
        return answer

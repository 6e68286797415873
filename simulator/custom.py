"""Customer-service messages (message/custom/send), bound by the user's interaction window."""

from __future__ import annotations

from typing import Any

from simulator.errors import ApiError, ok
from simulator.media import MediaStore
from simulator.records import Records
from simulator.request import ApiRequest
from simulator.users import Users

MEDIA_TYPES = frozenset({"image", "voice", "video"})
OTHER_TYPES = frozenset(
    {"music", "mpnews", "mpnewsarticle", "msgmenu", "wxcard", "miniprogrampage"}
)


def visible_content(msgtype: str, part: dict[str, Any]) -> Any:
    """What the user sees: the text, the media id, the articles, or the whole part."""
    if msgtype == "text":
        return part.get("content")
    if msgtype in MEDIA_TYPES or msgtype == "mpnews":
        return part.get("media_id")
    if msgtype == "news":
        return part.get("articles")
    return part


class CustomService:
    def __init__(self, users: Users, media: MediaStore, records: Records) -> None:
        self._users = users
        self._media = media
        self._records = records

    def send(self, request: ApiRequest) -> dict[str, Any]:
        """POST /cgi-bin/message/custom/send {"touser", "msgtype", <msgtype>: {...}}"""
        body = request.body()
        user = self._users.get(body.get("touser"))
        msgtype = body.get("msgtype")
        if not isinstance(msgtype, str) or msgtype not in {
            "text",
            "news",
            *MEDIA_TYPES,
            *OTHER_TYPES,
        }:
            raise ApiError(40008)
        part = body.get(msgtype)
        if not isinstance(part, dict):
            raise ApiError(47001)
        if msgtype == "text" and not (isinstance(part.get("content"), str) and part["content"]):
            raise ApiError(47001)
        if msgtype in MEDIA_TYPES:
            self._media.find(part.get("media_id"))
        if msgtype == "news":
            articles = part.get("articles")
            if not isinstance(articles, list) or not articles:
                raise ApiError(47001)
            if len(articles) > 1:  # one article per news message since 2018
                raise ApiError(45008)
        self._users.take_custom_slot(user.openid)
        self._records.deliver(
            user.openid,
            channel="custom",
            msgtype=msgtype,
            content=visible_content(msgtype, part),
            payload=body,
        )
        return ok()

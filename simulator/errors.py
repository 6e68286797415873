"""WeChat's errcodes with the errmsg texts the real platform answers."""

from __future__ import annotations

from typing import Any

ERRMSG: dict[int, str] = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40003: "invalid openid",
    40004: "invalid media type",
    40005: "invalid file type",
    40007: "invalid media_id",
    40008: "invalid message type",
    40009: "invalid image size",
    40010: "invalid voice size",
    40011: "invalid video size",
    40012: "invalid thumb size",
    40013: "invalid appid",
    40014: "invalid access_token",
    40016: "invalid button size",
    40017: "invalid button type",
    40018: "invalid button name size",
    40019: "invalid button key size",
    40020: "invalid button url size",
    40023: "invalid sub button size",
    40024: "invalid sub button type",
    40025: "invalid sub button name size",
    40026: "invalid sub button key size",
    40027: "invalid sub button url size",
    40032: "invalid openid list size",
    40035: "invalid args",
    40037: "invalid template_id",
    40054: "invalid sub button url domain",
    40055: "invalid button url domain",
    40058: "invalid Request Parameter",
    40097: "invalid args",
    40125: "invalid appsecret",
    40130: "invalid openid list size, at least two openid",
    41001: "access_token missing",
    41002: "appid missing",
    41004: "appsecret missing",
    41005: "media data missing",
    42001: "access_token expired",
    43001: "require GET method",
    43002: "require POST method",
    43004: "require subscribe",
    44002: "empty post data",
    45008: "article size out of limit",
    45009: "reach max api daily quota limit",
    45011: "api minute-quota reach limit, must slower, retry next minute",
    45015: "response out of time limit",
    45026: "template num exceeds limit",
    45047: "out of response count limit",
    45056: "too many tag now, no need to add new",
    45057: "can't delete the tag that has too many fans",
    45058: "can't modify sys tag",
    45059: "too many tag on user",
    45065: "clientmsgid exist",
    45067: "clientmsgid size out of limit",
    45157: "invalid tag name",
    45158: "tag name too long",
    45159: "invalid tag id",
    46003: "menu no exist",
    47001: "data format error",
    47003: "argument invalid!",
    48001: "api unauthorized",
    # 65301, 65302 and 65320: the meanings are documented; these English texts are ours.
    65301: "this menuid does not exist",
    65302: "no such user",
    65303: "there is no selfmenu, please create selfmenu first",
    65304: "match rule empty",
    65320: "matchrule contains private information",
    93000: "invalid webhook url",
}


class ApiError(Exception):
    """An errcode answer; ``extra`` fields ride along in the JSON (45065 carries msg_id)."""

    def __init__(self, errcode: int, errmsg: str | None = None, **extra: Any) -> None:
        self.errcode = errcode
        self.errmsg = errmsg if errmsg is not None else ERRMSG.get(errcode, "unknown error")
        self.extra = extra
        super().__init__(f"errcode {errcode}: {self.errmsg}")

    def payload(self) -> dict[str, Any]:
        return {"errcode": self.errcode, "errmsg": self.errmsg, **self.extra}


def ok(**fields: Any) -> dict[str, Any]:
    return {"errcode": 0, "errmsg": "ok", **fields}

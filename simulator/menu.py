"""The custom menu: structure checks with the platform's errcodes, and both read shapes."""

from __future__ import annotations

from typing import Any

from simulator.errors import ApiError, ok
from simulator.request import ApiRequest

KEY_TYPES = frozenset(
    {
        "click",
        "scancode_push",
        "scancode_waitmsg",
        "pic_sysphoto",
        "pic_photo_or_album",
        "pic_weixin",
        "location_select",
    }
)
#: type → the field it needs besides name
OTHER_TYPES = {
    "view": "url",
    "media_id": "media_id",
    "view_limited": "media_id",
    "article_id": "article_id",
    "article_view_limited": "article_id",
    "miniprogram": "pagepath",
}
MAX_TOP, MAX_SUB = 3, 5
TOP_NAME_BYTES, SUB_NAME_BYTES = 16, 60
KEY_BYTES, URL_BYTES = 128, 1024

#: (top-level errcode, sub-button errcode) for each kind of fault
_CODES = {
    "type": (40017, 40024),
    "name": (40018, 40025),
    "key": (40019, 40026),
    "url": (40020, 40027),
    "domain": (40055, 40054),
}


def _size(value: Any) -> int:
    return len(value.encode()) if isinstance(value, str) else -1


def _check_leaf(button: dict[str, Any], sub: bool) -> None:
    def fail(kind: str) -> ApiError:
        return ApiError(_CODES[kind][1 if sub else 0])

    kind = button.get("type")
    if kind in KEY_TYPES:
        if not 0 < _size(button.get("key")) <= KEY_BYTES:
            raise fail("key")
    elif kind in OTHER_TYPES:
        field = OTHER_TYPES[kind]
        if _size(button.get(field)) <= 0:
            raise fail("url" if field == "url" else "key")
        url = button.get("url")
        if kind in ("view", "miniprogram"):
            if not 0 < _size(url) <= URL_BYTES:
                raise fail("url")
            if not str(url).startswith(("http://", "https://")):
                raise fail("domain")
    else:
        raise fail("type")


def validate(menu: dict[str, Any]) -> list[dict[str, Any]]:
    buttons = menu.get("button")
    if not isinstance(buttons, list) or not 0 < len(buttons) <= MAX_TOP:
        raise ApiError(40016)
    for top in buttons:
        if not isinstance(top, dict):
            raise ApiError(40017)
        if not 0 < _size(top.get("name")) <= TOP_NAME_BYTES:
            raise ApiError(40018)
        subs = top.get("sub_button")
        if not subs:
            _check_leaf(top, sub=False)
            continue
        if not isinstance(subs, list) or len(subs) > MAX_SUB:
            raise ApiError(40023)
        for sub in subs:
            if not isinstance(sub, dict):
                raise ApiError(40024)
            if not 0 < _size(sub.get("name")) <= SUB_NAME_BYTES:
                raise ApiError(40025)
            _check_leaf(sub, sub=True)
    return buttons


class Menu:
    def __init__(self) -> None:
        self.buttons: list[dict[str, Any]] | None = None

    def create(self, request: ApiRequest) -> dict[str, Any]:
        """POST /cgi-bin/menu/create {"button": [...]}"""
        self.buttons = validate(request.body())
        return ok()

    def get(self, request: ApiRequest) -> dict[str, Any]:
        """GET /cgi-bin/menu/get: leaves carry an empty sub_button list, as the real one."""
        if self.buttons is None:
            raise ApiError(46003)
        shown = [{**b, "sub_button": b.get("sub_button") or []} for b in self.buttons]
        return {"menu": {"button": shown}}

    def delete(self, request: ApiRequest) -> dict[str, Any]:
        """GET /cgi-bin/menu/delete"""
        self.buttons = None
        return ok()

    def current(self, request: ApiRequest) -> dict[str, Any]:
        """GET /cgi-bin/get_current_selfmenu_info: sub buttons nest under {"list": [...]}."""
        if self.buttons is None:
            return {"is_menu_open": 0, "selfmenu_info": {"button": []}}
        shown = []
        for button in self.buttons:
            subs = button.get("sub_button")
            if subs:
                shown.append({"name": button["name"], "sub_button": {"list": list(subs)}})
            else:
                shown.append(dict(button))
        return {"is_menu_open": 1, "selfmenu_info": {"button": shown}}

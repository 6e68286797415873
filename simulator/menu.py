"""The custom menu: structure checks with the platform's errcodes, and both read shapes;
conditional (个性化) menus for a user tag on top of the default one, and ``trymatch``."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from simulator.errors import ApiError, ok
from simulator.request import ApiRequest
from simulator.users import Users

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
#: Match fields the platform now refuses (65320) to protect users' privacy.
PRIVATE_FIELDS = ("sex", "country", "province", "city", "language")

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


@dataclass(frozen=True, slots=True)
class Conditional:
    menuid: int
    buttons: list[dict[str, Any]]
    tag_id: int | None
    #: Kept and shown, never matched: the fake knows nothing of users' phones.
    platform: str | None


def _shown(buttons: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Leaves carry an empty sub_button list, as the real menu/get and trymatch answer."""
    return [{**b, "sub_button": b.get("sub_button") or []} for b in buttons]


class Menu:
    def __init__(self, *, tag_ids: Callable[[], set[int]], users: Users) -> None:
        self.buttons: list[dict[str, Any]] | None = None
        self.menuid: int | None = None
        #: Oldest first; the newest that matches is the one a user sees.
        self.conditional: list[Conditional] = []
        self._tag_ids = tag_ids
        self._users = users
        self._ids = itertools.count(208_000_001)

    def create(self, request: ApiRequest) -> dict[str, Any]:
        """POST /cgi-bin/menu/create {"button": [...]}: conditional menus stay."""
        self.buttons = validate(request.body())
        self.menuid = next(self._ids)
        return ok()

    def get(self, request: ApiRequest) -> dict[str, Any]:
        """GET /cgi-bin/menu/get: the default menu, and every conditional one with its rule."""
        if self.buttons is None:
            raise ApiError(46003)
        if not self.conditional:
            return {"menu": {"button": _shown(self.buttons)}}
        return {
            "menu": {"button": _shown(self.buttons), "menuid": self.menuid},
            "conditionalmenu": [
                {"button": _shown(c.buttons), "matchrule": _rule_shown(c), "menuid": c.menuid}
                for c in self.conditional
            ],
        }

    def delete(self, request: ApiRequest) -> dict[str, Any]:
        """GET /cgi-bin/menu/delete: the default menu and every conditional one."""
        self.buttons = self.menuid = None
        self.conditional.clear()
        return ok()

    def add_conditional(self, request: ApiRequest) -> dict[str, Any]:
        """POST /cgi-bin/menu/addconditional {"button": [...], "matchrule": {"tag_id": "…"}}"""
        body = request.body()
        if self.buttons is None:
            raise ApiError(65303)
        buttons = validate(body)
        rule = body.get("matchrule")
        if not isinstance(rule, dict) or not any(v not in (None, "") for v in rule.values()):
            raise ApiError(65304)
        if any(rule.get(name) not in (None, "") for name in PRIVATE_FIELDS):
            raise ApiError(65320)
        tag = rule.get("tag_id", rule.get("group_id"))  # group_id: the older name
        tag_id = None
        if tag not in (None, ""):
            if not str(tag).isdigit() or int(str(tag)) not in self._tag_ids():
                raise ApiError(45159)  # the tags API's code; the menu API documents none
            tag_id = int(str(tag))
        platform = rule.get("client_platform_type")
        menu = Conditional(next(self._ids), buttons, tag_id, str(platform) if platform else None)
        self.conditional.append(menu)
        return {"menuid": str(menu.menuid)}

    def delete_conditional(self, request: ApiRequest) -> dict[str, Any]:
        """POST /cgi-bin/menu/delconditional {"menuid": "208379533"}"""
        menuid = str(request.body().get("menuid", ""))
        found = [c for c in self.conditional if str(c.menuid) == menuid]
        if not found:
            raise ApiError(65301)
        self.conditional.remove(found[0])
        return ok()

    def try_match(self, request: ApiRequest) -> dict[str, Any]:
        """POST /cgi-bin/menu/trymatch {"user_id": openid}: the menu that user sees."""
        openid = request.body().get("user_id")
        try:
            user = self._users.get(openid)
        except ApiError:
            raise ApiError(65302) from None
        if self.buttons is None:
            raise ApiError(46003)
        for menu in reversed(self.conditional):
            if menu.platform is None and menu.tag_id is not None and menu.tag_id in user.tags:
                return {"button": _shown(menu.buttons)}
        return {"button": _shown(self.buttons)}

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


def _rule_shown(menu: Conditional) -> dict[str, str]:
    """As the real menu/get shows a rule: the tag under its older name, group_id, a string."""
    rule = {"group_id": str(menu.tag_id)} if menu.tag_id is not None else {}
    if menu.platform is not None:
        rule["client_platform_type"] = menu.platform
    return rule

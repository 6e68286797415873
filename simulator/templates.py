"""Template messages: only to followers, only with a template the account added."""

from __future__ import annotations

import itertools
import re
import secrets
from dataclasses import dataclass
from typing import Any

from simulator.errors import ApiError
from simulator.records import Records
from simulator.request import ApiRequest
from simulator.users import Users

MAX_TEMPLATES = 25
_FIELD = re.compile(r"\{\{(\w+)\.DATA\}\}")


@dataclass(frozen=True, slots=True)
class Template:
    template_id: str
    title: str
    content: str  # e.g. "{{first.DATA}}\n受理编号：{{keyword1.DATA}}"

    def fields(self) -> list[str]:
        return _FIELD.findall(self.content)

    def render(self, data: dict[str, Any]) -> str:
        return _FIELD.sub(lambda m: str(data[m.group(1)]["value"]), self.content)


class Templates:
    def __init__(self, users: Users, records: Records) -> None:
        self._users = users
        self._records = records
        self._templates: dict[str, Template] = {}
        self._msgids = itertools.count(2_000_000_001)

    def add(self, title: str, content: str, template_id: str | None = None) -> str:
        if len(self._templates) >= MAX_TEMPLATES:
            raise ApiError(45026)
        template_id = template_id or secrets.token_urlsafe(32)
        self._templates[template_id] = Template(template_id, title, content)
        return template_id

    def all(self, request: ApiRequest) -> dict[str, Any]:
        """GET /cgi-bin/template/get_all_private_template"""
        return {
            "template_list": [
                {"template_id": t.template_id, "title": t.title, "content": t.content}
                for t in self._templates.values()
            ]
        }

    def send(self, request: ApiRequest) -> dict[str, Any]:
        """POST /cgi-bin/message/template/send {"touser", "template_id", "data", "url"?}"""
        body = request.body()
        user = self._users.get(body.get("touser"))
        template_id = body.get("template_id")
        template = self._templates.get(template_id) if isinstance(template_id, str) else None
        if template is None:
            raise ApiError(40037)
        if not user.subscribed:
            raise ApiError(43004)
        data = body.get("data")
        if not isinstance(data, dict):
            raise ApiError(47001)
        for name in template.fields():
            item = data.get(name)
            if not isinstance(item, dict) or not str(item.get("value", "")):
                raise ApiError(47003, f"argument invalid! data.{name}.value is empty")
        msgid = next(self._msgids)
        self._records.deliver(
            user.openid,
            channel="template",
            msgtype="template",
            content=template.render(data),
            payload=body,
        )
        self._records.push_event(
            user.openid, "TEMPLATESENDJOBFINISH", MsgID=msgid, Status="success"
        )
        return {"errcode": 0, "errmsg": "ok", "msgid": msgid}

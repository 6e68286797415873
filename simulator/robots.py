"""WeCom group robots: POST /cgi-bin/webhook/send?key=… (no access_token)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from simulator.clock import Clock
from simulator.errors import ApiError, ok
from simulator.quotas import RateWindow
from simulator.request import ApiRequest

LIMITS = {"text": 2048, "markdown": 4096}  # content bytes
MAX_ARTICLES = 8
PER_MINUTE = 20


def _check(body: dict[str, Any]) -> None:
    msgtype = body.get("msgtype")
    part = body.get(msgtype) if isinstance(msgtype, str) else None
    if msgtype not in {"text", "markdown", "news", "image", "file", "template_card"}:
        raise ApiError(40008)
    if not isinstance(part, dict):
        raise ApiError(40058, f"{msgtype} is missing. invalid Request Parameter")
    if msgtype in LIMITS:
        content = part.get("content")
        if not isinstance(content, str) or not content:
            raise ApiError(40058, f"{msgtype}.content is empty. invalid Request Parameter")
        limit = LIMITS[msgtype]
        if len(content.encode()) > limit:
            raise ApiError(
                40058, f"{msgtype}.content exceed max length {limit}. invalid Request Parameter"
            )
    if msgtype == "news":
        articles = part.get("articles")
        if not isinstance(articles, list) or not 0 < len(articles) <= MAX_ARTICLES:
            raise ApiError(40058, "news.articles exceed max size. invalid Request Parameter")


class Robots:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._keys: set[str] = set()
        self._messages: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self._rate = RateWindow(clock, limit=PER_MINUTE, seconds=60, errcode=45009)

    def add(self, key: str) -> str:
        self._keys.add(key)
        return key

    def messages(self, key: str) -> list[dict[str, Any]]:
        return list(self._messages.get(key, []))

    def send(self, request: ApiRequest) -> dict[str, Any]:
        key = request.query.get("key", "")
        if key not in self._keys:
            raise ApiError(93000)
        body = request.body()
        _check(body)
        self._rate.take(key, "api freq out of limit")
        self._messages[key].append({**body, "time": self._clock()})
        return ok()

"""A WeCom group robot (企业微信群机器人): the duty group hears of every alert.

The robot is addressed by its webhook key alone: whoever has the key can post to the group.
So the key travels only in the query string of the call itself and appears in no error, log
line or stored row; failures name the path, never the URL.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from pydantic import SecretStr

from bot.errors import TransportError, WeChatAPIError, error_for
from bot.protocol import clip

PATH = "/cgi-bin/webhook/send"
#: The platform's limit on ``text.content``, in UTF-8 bytes.
TEXT_LIMIT = 2048
#: Not now rather than never: WeCom busy (-1), no usable answer (-2), or over the robot's
#: 20 messages a minute (45009). Anything else (93000: no such key) will not get better.
TRANSIENT_ERRCODES = frozenset({-1, -2, 45009})


def transient(error: WeChatAPIError) -> bool:
    return isinstance(error, TransportError) or error.errcode in TRANSIENT_ERRCODES


class Robot:
    """One robot's webhook, called on the app's HTTP session; one HTTP call per send (the
    outbox retries)."""

    def __init__(
        self,
        *,
        http: aiohttp.ClientSession,
        base: str,
        key: SecretStr,
        timeout: float = 10.0,
    ) -> None:
        self._http = http
        self._url = base.rstrip("/") + PATH
        self._key = key
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def send_text(self, content: str) -> None:
        """Post ``content`` (cut to the platform's limit); raises WeChatAPIError."""
        body = {"msgtype": "text", "text": {"content": clip(content, TEXT_LIMIT)}}
        try:
            async with self._http.post(
                self._url,
                params={"key": self._key.get_secret_value()},
                data=json.dumps(body, ensure_ascii=False).encode(),
                headers={"Content-Type": "application/json; charset=utf-8"},
                timeout=self._timeout,
            ) as resp:
                status, content_bytes = resp.status, await resp.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            # Only the type: aiohttp's messages may quote the URL, and with it the key.
            raise TransportError(-2, type(exc).__name__, PATH) from None
        if status >= 500:
            raise TransportError(-2, f"HTTP {status}", PATH)
        try:
            payload: Any = json.loads(content_bytes)
        except ValueError:
            raise TransportError(-2, f"non-JSON answer, HTTP {status}", PATH) from None
        errcode = int(payload.get("errcode", 0)) if isinstance(payload, dict) else 0
        if errcode:
            # WeCom's errmsg echoes request details ("hint", "from ip"): not kept.
            raise error_for(errcode, "robot refused the message", PATH)

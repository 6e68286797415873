"""The transport of WeChat's pushes: signed query, safe-mode envelope, retries.

Each message is retried with the same MsgId and CreateTime (fresh nonce, timestamp and
signature) when the bot does not answer within ``timeout``, up to ``tries`` attempts; a 200
ends the retries, and an empty body or ``success`` means "no reply".
"""

from __future__ import annotations

import itertools
import secrets
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import aiohttp
from wechatpy.crypto import WeChatCrypto

from simulator.clock import Clock, system_clock
from simulator.replies import Attempt, Reply, SentCall, open_envelope, parse_reply
from simulator.wire import Value, encrypt, envelope, sign, to_xml

# MsgIds are unique across senders and runs (a demo database outlives the process).
_MSG_IDS = itertools.count(23_000_000_000_000_000 + time.time_ns() // 1000)
HEADERS = {"Content-Type": "text/xml", "User-Agent": "Mozilla/4.0"}


class WebhookClient:
    """Signs, encrypts and posts pushes; retries as WeChat does."""

    def __init__(
        self,
        *,
        url: str,
        token: str,
        appid: str,
        original_id: str,
        aes_key: str | None = None,
        clock: Clock = system_clock,
        session: aiohttp.ClientSession | None = None,
        timeout: float = 5.0,
        tries: int = 3,
    ) -> None:
        self.url = url
        self.token = token
        self.appid = appid
        self.original_id = original_id
        self.aes_key = aes_key
        self.clock = clock
        self.session = session
        self.timeout = timeout
        self.tries = tries
        self._crypto = WeChatCrypto(token, aes_key, appid) if aes_key else None

    # -- building -------------------------------------------------------------------------

    def sign_query(
        self,
        *,
        timestamp: str | None = None,
        nonce: str | None = None,
        openid: str | None = None,
        encrypted: str | None = None,
    ) -> dict[str, str]:
        """The query WeChat adds to a push; ``encrypted`` (the Encrypt text) adds safe mode."""
        timestamp = timestamp or str(int(self.clock()))
        nonce = nonce or str(secrets.randbelow(9 * 10**9) + 10**9)
        query = {"signature": sign(self.token, timestamp, nonce), "timestamp": timestamp}
        query["nonce"] = nonce
        if openid is not None:
            query["openid"] = openid
        if encrypted is not None:
            query["encrypt_type"] = "aes"
            query["msg_signature"] = sign(self.token, timestamp, nonce, encrypted)
        return query

    def message(self, openid: str, msg_type: str, **fields: Value) -> dict[str, Value]:
        return {
            "ToUserName": self.original_id,
            "FromUserName": openid,
            "CreateTime": int(self.clock()),
            "MsgType": msg_type,
            **fields,
            "MsgId": next(_MSG_IDS),
        }

    def event_message(
        self, openid: str, event: str, key: str | None = None, **extra: Value
    ) -> dict[str, Value]:
        fields: dict[str, Value] = {
            "ToUserName": self.original_id,
            "FromUserName": openid,
            "CreateTime": int(self.clock()),
            "MsgType": "event",
            "Event": event,
        }
        if key is not None:
            fields["EventKey"] = key
        return {**fields, **extra}

    def _encrypted(self, xml: str) -> str | None:
        if not self.aes_key:
            return None
        return encrypt(xml, encoding_aes_key=self.aes_key, appid=self.appid)

    def _attempt(
        self, xml: str, encrypted: str | None, openid: str
    ) -> tuple[bytes, dict[str, str]]:
        query = self.sign_query(openid=openid, encrypted=encrypted)
        body = xml if encrypted is None else envelope(self.original_id, encrypted)
        return body.encode(), query

    def build(self, fields: Mapping[str, Value]) -> tuple[bytes, dict[str, str]]:
        """Body and query of one push of ``fields``, for tests that post it themselves."""
        xml = to_xml(fields)
        return self._attempt(xml, self._encrypted(xml), str(fields["FromUserName"]))

    def build_text(self, openid: str, content: str) -> tuple[bytes, dict[str, str]]:
        return self.build(self.message(openid, "text", Content=content))

    # -- HTTP -----------------------------------------------------------------------------

    @asynccontextmanager
    async def _http(self) -> AsyncIterator[aiohttp.ClientSession]:
        if self.session is not None:
            yield self.session
            return
        async with aiohttp.ClientSession() as session:
            yield session

    async def _post(
        self, http: aiohttp.ClientSession, body: bytes, query: Mapping[str, str]
    ) -> Attempt:
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        try:
            async with http.post(
                self.url, data=body, params=query, headers=HEADERS, timeout=timeout
            ) as resp:
                text = (await resp.read()).decode("utf-8", errors="replace")
                return Attempt(resp.status, text)
        except TimeoutError:
            return Attempt(None, "", "timeout")
        except aiohttp.ClientError as exc:
            return Attempt(None, "", type(exc).__name__)

    async def post_raw(self, body: bytes | str, query: Mapping[str, str]) -> Attempt:
        """One POST of anything (forged bodies, bad signatures), no retries."""
        data = body.encode() if isinstance(body, str) else body
        async with self._http() as http:
            return await self._post(http, data, query)

    async def verify_server(self, echostr: str) -> tuple[int, str]:
        """The GET WeChat makes when the server URL is configured."""
        query = {**self.sign_query(), "echostr": echostr}
        async with (
            self._http() as http,
            http.get(
                self.url, params=query, timeout=aiohttp.ClientTimeout(total=self.timeout)
            ) as resp,
        ):
            return resp.status, await resp.text()

    def _reply(self, openid: str, body: str) -> Reply | None:
        if body.strip() in ("", "success"):
            return None
        xml = body
        if self._crypto is not None:
            xml = open_envelope(body, self._crypto)
        return parse_reply(xml, openid)

    async def deliver(self, fields: Mapping[str, Value]) -> SentCall:
        """Push ``fields`` with WeChat's retries; raises InvalidReply for an unusable 200."""
        openid = str(fields["FromUserName"])
        xml = to_xml(fields)
        encrypted = self._encrypted(xml)  # the same ciphertext on every retry
        attempts: list[Attempt] = []
        reply: Reply | None = None
        async with self._http() as http:
            for _ in range(self.tries):
                attempt = await self._post(http, *self._attempt(xml, encrypted, openid))
                attempts.append(attempt)
                if attempt.status == 200:
                    reply = self._reply(openid, attempt.body)
                    break
        return SentCall(dict(fields), xml, tuple(attempts), reply)

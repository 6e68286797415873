"""The WeChat API gateway: aiohttp against ``PINGAN_WECHAT_API_BASE``, typed errors, retries.

wechatpy's own client is synchronous and bound to fixed hosts, so calls are made here; the
request and response shapes follow wechatpy's ``client/api`` modules. Retries use tenacity:
transient failures (errcode -1, timeouts, 5xx) back off exponentially; a rejected token is
refreshed once; a spent quota (45009) is raised for the caller to retry later.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

import aiohttp
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from bot.errors import (
    MediaTooLarge,
    SystemBusy,
    TokenRejected,
    TransportError,
    WeChatAPIError,
    error_for,
)
from bot.metrics import Metrics
from bot.tokens import TokenManager
from storage.clock import Clock

log = logging.getLogger("pingan.api")

TAG_BATCH = 50  # openids per batchtagging call (platform limit)


@dataclass(frozen=True, slots=True)
class Media:
    data: bytes
    content_type: str
    #: Already made fit to keep by its dialog step's ``State.prepare`` (EXIF stripped…).
    prepared: bool = False


MediaKind = Literal["image", "voice", "video", "thumb"]
#: WeChat's own limits on temporary media: anything larger is not a file a user sent.
MEDIA_LIMITS: dict[str, int] = {
    "image": 10 << 20,
    "voice": 2 << 20,
    "video": 10 << 20,
    "thumb": 64 << 10,
}
_MEDIA_CHUNK = 64 << 10


@dataclass(frozen=True, slots=True)
class Upload:
    """A multipart body with one ``media`` part, as media/upload wants it."""

    media: Media

    def form(self) -> aiohttp.FormData:
        form = aiohttp.FormData()
        subtype = self.media.content_type.split("/")[-1]
        form.add_field(
            "media",
            self.media.data,
            filename=f"media.{subtype}",
            content_type=self.media.content_type,
        )
        return form


@dataclass(frozen=True, slots=True)
class QRCode:
    ticket: str
    url: str
    expire_seconds: int | None


class WeChatAPI:
    def __init__(
        self,
        *,
        http: aiohttp.ClientSession,
        base: str,
        appid: str,
        secret: str,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Clock,
        timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.5,
        metrics: Metrics | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.http = http
        self.base = base.rstrip("/")
        self.appid = appid
        self._secret = secret
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._retries = retries
        self._backoff = backoff
        self._metrics = metrics
        self._sleep = sleep
        self.tokens = TokenManager(
            appid=appid, fetch=self._fetch_token, sessionmaker=sessionmaker, clock=clock
        )

    # -- plumbing -------------------------------------------------------------------------

    async def _request(
        self,
        method: str,
        path: str,
        params: dict[str, Any],
        body: Any,
        *,
        raw: bool = False,
    ) -> Any:
        data: Any = None
        headers = {}
        if isinstance(body, Upload):
            data = body.form()  # built per try: aiohttp reads a form only once
        elif body is not None:
            # WeChat shows \uXXXX escapes literally in some APIs: send real UTF-8.
            data = json.dumps(body, ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json; charset=utf-8"
        try:
            async with self.http.request(
                method,
                self.base + path,
                params=params,
                data=data,
                headers=headers,
                timeout=self._timeout,
            ) as resp:
                content = await resp.read()
                content_type = resp.headers.get("Content-Type", "")
                status = resp.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise self._count(TransportError(-2, type(exc).__name__, path)) from exc
        if status >= 500:
            raise self._count(TransportError(-2, f"HTTP {status}", path))
        if raw and not content_type.startswith(("application/json", "text/plain")):
            return Media(content, content_type)
        try:
            payload = json.loads(content)
        except ValueError:
            raise self._count(
                TransportError(-2, f"non-JSON answer, HTTP {status}", path)
            ) from None
        errcode = int(payload.get("errcode", 0)) if isinstance(payload, dict) else 0
        if errcode:
            raise self._count(error_for(errcode, str(payload.get("errmsg", "")), path))
        return payload

    def _count(self, error: WeChatAPIError) -> WeChatAPIError:
        if self._metrics is not None:
            self._metrics.api_errors.labels(path=error.path, errcode=str(error.errcode)).inc()
        log.warning(
            "wechat api error path=%s errcode=%s %s", error.path, error.errcode, error.errmsg
        )
        return error

    async def _with_retries(self, attempt: Callable[[], Awaitable[Any]]) -> Any:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._retries + 1),
            wait=wait_exponential(multiplier=self._backoff, max=30),
            retry=retry_if_exception_type((SystemBusy, TransportError)),
            sleep=self._sleep,
            reraise=True,
        )
        async for try_ in retrying:
            with try_:
                return await attempt()
        raise AssertionError("unreachable: tenacity re-raises the last error")

    async def _fetch_token(self) -> tuple[str, int]:
        params = {"grant_type": "client_credential", "appid": self.appid, "secret": self._secret}
        payload = await self._with_retries(
            lambda: self._request("GET", "/cgi-bin/token", params, None)
        )
        return str(payload["access_token"]), int(payload["expires_in"])

    async def call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        raw: bool = False,
    ) -> Any:
        """Call an access_token API; on a rejected token refresh it once and call again."""

        async def attempt() -> Any:
            token = await self.tokens.get()
            try:
                return await self._request(
                    method, path, {**(params or {}), "access_token": token}, body, raw=raw
                )
            except TokenRejected:
                token = await self.tokens.get(stale=token)
                return await self._request(
                    method, path, {**(params or {}), "access_token": token}, body, raw=raw
                )

        return await self._with_retries(attempt)

    # -- endpoints ------------------------------------------------------------------------

    async def send_custom(self, message: dict[str, Any]) -> None:
        await self.call("POST", "/cgi-bin/message/custom/send", body=message)

    async def send_text(self, openid: str, content: str) -> None:
        await self.send_custom({"touser": openid, "msgtype": "text", "text": {"content": content}})

    async def send_image(self, openid: str, media_id: str) -> None:
        await self.send_custom(
            {"touser": openid, "msgtype": "image", "image": {"media_id": media_id}}
        )

    async def send_link(self, openid: str, *, title: str, description: str, url: str) -> None:
        """A news message with one article: a tappable card (a map, say)."""
        article = {"title": title, "description": description, "url": url}
        await self.send_custom(
            {"touser": openid, "msgtype": "news", "news": {"articles": [article]}}
        )

    async def upload_media(self, media: Media, kind: MediaKind = "image") -> str:
        """Upload temporary media (kept 3 days by WeChat); returns its media_id."""
        payload = await self.call(
            "POST", "/cgi-bin/media/upload", params={"type": kind}, body=Upload(media)
        )
        return str(payload["media_id"])

    async def send_template(
        self, openid: str, template_id: str, data: dict[str, Any], url: str | None = None
    ) -> None:
        body: dict[str, Any] = {"touser": openid, "template_id": template_id, "data": data}
        if url:
            body["url"] = url
        await self.call("POST", "/cgi-bin/message/template/send", body=body)

    async def download_media(self, media_id: str, kind: MediaKind = "image") -> Media:
        """Temporary media (WeChat keeps it 3 days), read up to the platform's limit for ``kind``.

        Raises MediaTooLarge as soon as the body passes the limit, without reading the rest;
        other failures raise as any call does (a rejected token is refreshed once).
        """
        if kind not in MEDIA_LIMITS:
            msg = f"unknown media kind {kind!r}"
            raise ValueError(msg)
        limit = MEDIA_LIMITS[kind]
        path = "/cgi-bin/media/get"

        # call() reads the whole body; this is its token handling around a bounded read.
        async def attempt() -> Any:
            token = await self.tokens.get()
            try:
                return await self._get_media(path, media_id, token, limit)
            except TokenRejected:
                token = await self.tokens.get(stale=token)
                return await self._get_media(path, media_id, token, limit)

        result = await self._with_retries(attempt)
        if not isinstance(result, Media):
            msg = "media/get answered JSON without an errcode"
            raise WeChatAPIError(-3, msg, path)
        return result

    async def _get_media(self, path: str, media_id: str, token: str, limit: int) -> Any:
        """One media/get: the bytes as Media, a JSON answer as a payload, errcodes raised."""
        params = {"media_id": media_id, "access_token": token}
        chunks: list[bytes] = []
        try:
            async with self.http.get(
                self.base + path, params=params, timeout=self._timeout
            ) as resp:
                if resp.status >= 500:
                    raise self._count(TransportError(-2, f"HTTP {resp.status}", path))
                content_type = resp.headers.get("Content-Type", "")
                if resp.content_length is not None and resp.content_length > limit:
                    raise self._count(MediaTooLarge(path, limit=limit, received=0))
                # Counted after decompression, so a gzip-encoded body is bounded as well.
                received = 0
                async for chunk in resp.content.iter_chunked(_MEDIA_CHUNK):
                    received += len(chunk)
                    if received > limit:
                        # Leaving the block closes the connection instead of draining it.
                        raise self._count(MediaTooLarge(path, limit=limit, received=received))
                    chunks.append(chunk)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise self._count(TransportError(-2, type(exc).__name__, path)) from exc
        content = b"".join(chunks)
        if not content_type.startswith(("application/json", "text/plain")):
            return Media(content, content_type)
        try:
            payload = json.loads(content)
        except ValueError:
            msg = f"non-JSON answer, HTTP {resp.status}"
            raise self._count(TransportError(-2, msg, path)) from None
        errcode = int(payload.get("errcode", 0)) if isinstance(payload, dict) else 0
        if errcode:
            raise self._count(error_for(errcode, str(payload.get("errmsg", "")), path))
        return payload

    async def user_info(self, openid: str, lang: str = "zh_CN") -> dict[str, Any]:
        info: dict[str, Any] = await self.call(
            "GET", "/cgi-bin/user/info", params={"openid": openid, "lang": lang}
        )
        return info

    async def create_tag(self, name: str) -> int:
        payload = await self.call("POST", "/cgi-bin/tags/create", body={"tag": {"name": name}})
        return int(payload["tag"]["id"])

    async def get_tags(self) -> list[dict[str, Any]]:
        payload = await self.call("GET", "/cgi-bin/tags/get")
        return list(payload.get("tags", []))

    async def tag_users(self, tag_id: int, openids: Iterable[str], *, untag: bool = False) -> None:
        """Tag (or untag) any number of users, 50 per call as the platform requires."""
        path = "/cgi-bin/tags/members/" + ("batchuntagging" if untag else "batchtagging")
        batch = list(openids)
        for start in range(0, len(batch), TAG_BATCH):
            chunk = batch[start : start + TAG_BATCH]
            await self.call("POST", path, body={"openid_list": chunk, "tagid": tag_id})

    async def user_tags(self, openid: str) -> list[int]:
        payload = await self.call("POST", "/cgi-bin/tags/getidlist", body={"openid": openid})
        return [int(t) for t in payload.get("tagid_list", [])]

    async def create_menu(self, menu: dict[str, Any]) -> None:
        await self.call("POST", "/cgi-bin/menu/create", body=menu)

    async def get_menu(self) -> dict[str, Any]:
        menu: dict[str, Any] = await self.call("GET", "/cgi-bin/menu/get")
        return menu

    async def delete_menu(self) -> None:
        await self.call("GET", "/cgi-bin/menu/delete")

    async def create_qrcode(self, scene: str, *, expire_seconds: int | None = None) -> QRCode:
        """A string-scene QR code; temporary when ``expire_seconds`` is given (≤ 30 days)."""
        if not 1 <= len(scene) <= 64:
            msg = "scene_str must be 1 to 64 characters"
            raise ValueError(msg)
        body: dict[str, Any] = {"action_info": {"scene": {"scene_str": scene}}}
        if expire_seconds is None:
            body["action_name"] = "QR_LIMIT_STR_SCENE"
        else:
            body["action_name"] = "QR_STR_SCENE"
            body["expire_seconds"] = min(expire_seconds, 30 * 24 * 3600)
        payload = await self.call("POST", "/cgi-bin/qrcode/create", body=body)
        expire = payload.get("expire_seconds")
        return QRCode(
            ticket=str(payload["ticket"]),
            url=str(payload.get("url", "")),
            expire_seconds=int(expire) if expire is not None else None,
        )

    # -- conditional menus: one a user tag sees instead of the default ------------------

    async def add_conditional_menu(self, menu: dict[str, Any], tag_id: int) -> str:
        """Needs the default menu first (errcode 65303); returns the new menu's menuid."""
        body = {**menu, "matchrule": {"tag_id": str(tag_id)}}
        payload = await self.call("POST", "/cgi-bin/menu/addconditional", body=body)
        return str(payload["menuid"])

    async def delete_conditional_menu(self, menuid: str) -> None:
        await self.call("POST", "/cgi-bin/menu/delconditional", body={"menuid": menuid})

    async def try_match_menu(self, openid: str) -> dict[str, Any]:
        """The menu ``openid`` sees: ``{"button": [...]}``."""
        menu: dict[str, Any] = await self.call(
            "POST", "/cgi-bin/menu/trymatch", body={"user_id": openid}
        )
        return menu

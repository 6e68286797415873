"""The fake platform over HTTP: real cgi-bin paths, JSON shapes and errcodes.

Every call is recorded; then, in order: injected delay, injected fault, method check,
access_token check, account permission, body parsing, daily quota, the handler.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import BodyPartReader, web

from simulator.errors import ERRMSG, ApiError
from simulator.media import MediaStream
from simulator.request import ApiRequest, RawResponse, Upload
from simulator.state import FakeWeChat

Handler = Callable[[ApiRequest], dict[str, Any] | RawResponse]
platform_key = web.AppKey("platform", FakeWeChat)
JSON_TYPE = "application/json; encoding=utf-8"  # what the real API answers
GET, POST = "GET", "POST"


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    handler: Handler
    token: bool = True  # needs access_token
    quota: bool = True  # the generic daily quota (mass and token count their own)
    service_only: bool = False  # 48001 for a subscription account


routes_key = web.AppKey("routes", dict[str, Route])


def routes(p: FakeWeChat) -> dict[str, Route]:
    return {
        "/cgi-bin/token": Route(GET, p.tokens.grant, token=False, quota=False),
        "/cgi-bin/stable_token": Route(POST, p.tokens.stable_grant, token=False, quota=False),
        "/cgi-bin/user/info": Route(GET, p.users.info),
        "/cgi-bin/user/get": Route(GET, p.users.followers),
        "/cgi-bin/message/custom/send": Route(POST, p.custom.send),
        "/cgi-bin/media/get": Route(GET, p.media.get),
        "/cgi-bin/media/upload": Route(POST, p.media.upload),
        "/cgi-bin/tags/create": Route(POST, p.tags.create),
        "/cgi-bin/tags/get": Route(GET, p.tags.get),
        "/cgi-bin/tags/update": Route(POST, p.tags.update),
        "/cgi-bin/tags/delete": Route(POST, p.tags.delete),
        "/cgi-bin/tags/members/batchtagging": Route(POST, p.tags.batch_tag),
        "/cgi-bin/tags/members/batchuntagging": Route(POST, p.tags.batch_untag),
        "/cgi-bin/tags/getidlist": Route(POST, p.tags.of_user),
        "/cgi-bin/user/tag/get": Route(POST, p.tags.members),
        "/cgi-bin/menu/create": Route(POST, p.menu.create),
        "/cgi-bin/menu/get": Route(GET, p.menu.get),
        "/cgi-bin/menu/delete": Route(GET, p.menu.delete),
        "/cgi-bin/menu/addconditional": Route(POST, p.menu.add_conditional),
        "/cgi-bin/menu/delconditional": Route(POST, p.menu.delete_conditional),
        "/cgi-bin/menu/trymatch": Route(POST, p.menu.try_match),
        "/cgi-bin/get_current_selfmenu_info": Route(GET, p.menu.current),
        "/cgi-bin/qrcode/create": Route(POST, p.qrcodes.create, service_only=True),
        "/cgi-bin/message/mass/sendall": Route(POST, p.mass.sendall, quota=False),
        "/cgi-bin/message/mass/send": Route(POST, p.mass.send, quota=False),
        "/cgi-bin/message/mass/get": Route(POST, p.mass.status),
        "/cgi-bin/message/template/send": Route(POST, p.templates.send, service_only=True),
        "/cgi-bin/template/get_all_private_template": Route(
            GET, p.templates.all, service_only=True
        ),
        # WeCom's group robot lives on qyapi.weixin.qq.com; one fake server serves both.
        "/cgi-bin/webhook/send": Route(POST, p.robots.send, token=False, quota=False),
    }


def _json(payload: Any, status: int = 200) -> web.Response:
    body = json.dumps(payload, ensure_ascii=False).encode()
    return web.Response(body=body, status=status, headers={"Content-Type": JSON_TYPE})


async def _read(request: web.Request) -> tuple[bytes, dict[str, Upload]]:
    if not request.content_type.startswith("multipart/"):
        return await request.read(), {}
    files: dict[str, Upload] = {}
    reader = await request.multipart()
    async for part in reader:
        if isinstance(part, BodyPartReader) and part.name:
            content_type = part.headers.get("Content-Type", "application/octet-stream")
            data = await part.read(decode=False)
            files[part.name] = Upload(part.filename or "", content_type, bytes(data))
    return b"", files


def _parse(raw: bytes) -> tuple[Any, ApiError | None]:
    if not raw.strip():
        return None, ApiError(44002)
    try:
        return json.loads(raw), None
    except (ValueError, UnicodeDecodeError):
        return None, ApiError(47001)


async def _handle(request: web.Request) -> web.StreamResponse:
    platform = request.app[platform_key]
    path = request.path
    route = request.app[routes_key].get(path)
    if route is None:
        raise web.HTTPNotFound(text=f"no such API: {path}")
    query = dict(request.query)
    raw, files = await _read(request)
    body, body_error = _parse(raw) if request.method == POST and not files else (None, None)
    recorded = {n: f.filename for n, f in files.items()} if files else body
    platform.records.call(request.method, path, query, recorded)

    delay = platform.faults.take_delay(path)
    if delay:
        await asyncio.sleep(delay)
    touser = body.get("touser") if isinstance(body, dict) else None
    fault = platform.faults.take_fault(path, touser if isinstance(touser, str) else None)
    if fault is not None:
        if fault.status >= 400:
            return web.Response(status=fault.status, text=f"{fault.status} injected")
        errmsg = ERRMSG.get(fault.errcode, "injected fault")
        return _json({"errcode": fault.errcode, "errmsg": errmsg}, fault.status)
    try:
        if request.method != route.method:
            raise ApiError(43001 if route.method == GET else 43002)
        if route.token:
            platform.tokens.check(query.get("access_token"))
        if route.service_only and not platform.service:
            raise ApiError(48001)
        if body_error is not None and route.method == POST and not files:
            raise body_error
        if route.quota:
            platform.quota.take(path)
        answer = route.handler(ApiRequest(request.method, path, query, body, files))
    except ApiError as error:
        return _json(error.payload())
    if isinstance(answer, MediaStream):
        return await _stream(request, answer)
    if isinstance(answer, RawResponse):
        headers = {"Content-Type": answer.content_type, **answer.headers}
        return web.Response(body=answer.data, headers=headers)
    return _json(answer)


async def _stream(request: web.Request, answer: MediaStream) -> web.StreamResponse:
    """A generated media body, written as the client reads it, until the client hangs up."""
    response = web.StreamResponse(headers={"Content-Type": answer.content_type, **answer.headers})
    if answer.length is None:
        response.enable_chunked_encoding()
    else:
        response.content_length = answer.length
    await response.prepare(request)
    try:
        for chunk in answer.chunks():
            await response.write(chunk)
            answer.sent(len(chunk))
        await response.write_eof()
    except ConnectionError:
        pass  # the client stopped reading: what a size limit is for
    return response


async def _sim_inbox(request: web.Request) -> web.Response:
    """Read-only view for the demo: what one user received."""
    return _json(request.app[platform_key].inbox(request.match_info["openid"]))


async def _sim_robot(request: web.Request) -> web.Response:
    return _json(request.app[platform_key].robot_messages(request.match_info["key"]))


def create_platform_app(platform: FakeWeChat) -> web.Application:
    app = web.Application(client_max_size=20 << 20)
    app[platform_key] = platform
    app[routes_key] = routes(platform)
    app.router.add_route("*", "/cgi-bin/{tail:.*}", _handle)
    app.router.add_get("/_sim/inbox/{openid}", _sim_inbox)
    app.router.add_get("/_sim/robots/{key}", _sim_robot)
    return app

"""The thin webhook adapter: verify, parse, hand to the pipeline, write the reply.

Every refusal is a 4xx with a log line; a 5xx only ever means our own failure (WeChat then
retries, which the ledger makes safe).
"""

from __future__ import annotations

import time

from aiohttp import web

from bot import loggers
from bot.protocol import (
    ProtocolError,
    SafeMode,
    check_timestamp,
    parse_xml,
    signature_ok,
    to_message,
)
from bot.typedefs import (
    clock_key,
    keys_key,
    metrics_key,
    pipeline_key,
    safe_mode_key,
    settings_key,
)

SUCCESS = "success"


def _query(request: web.Request, *names: str) -> list[str]:
    values = [request.query.get(name, "") for name in names]
    if not all(values):
        raise ProtocolError(400, f"missing query parameter(s): {', '.join(names)}")
    return values


def _verify(request: web.Request) -> tuple[str, str]:
    settings = request.app[settings_key]
    signature, timestamp, nonce = _query(request, "signature", "timestamp", "nonce")
    token = settings.wechat_token.get_secret_value()
    if not signature_ok(signature, token, timestamp, nonce):
        raise ProtocolError(403, "bad signature")
    check_timestamp(timestamp, now=request.app[clock_key](), max_skew=settings.wechat_max_skew)
    return timestamp, nonce


async def server_check(request: web.Request) -> web.StreamResponse:
    """``GET /wechat``: WeChat's URL verification echoes ``echostr`` on a good signature."""
    try:
        _verify(request)
        (echostr,) = _query(request, "echostr")
    except ProtocolError as exc:
        loggers.webhook.warning("server check refused status=%s reason=%s", exc.status, exc.reason)
        return web.Response(status=exc.status, text=exc.reason)
    return web.Response(text=echostr)


async def _read_body(request: web.Request) -> bytes:
    limit = request.app[settings_key].max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        raise ProtocolError(413, "body too large")
    try:
        body = await request.read()  # bounded by the app's client_max_size
    except web.HTTPRequestEntityTooLarge:
        raise ProtocolError(413, "body too large") from None
    if not body.strip():
        raise ProtocolError(400, "empty body")
    return body


def _utf8(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        # WeChat sends UTF-8 only; a GBK body would be stored garbled.
        raise ProtocolError(400, "body is not UTF-8") from None


def _plain_xml(request: web.Request, body: bytes, timestamp: str, nonce: str) -> tuple[str, bool]:
    """The decrypted (or plain) inbound XML and whether the call came in safe mode."""
    if request.query.get("encrypt_type", "raw") != "aes":
        if request.app[settings_key].mode == "safe":
            request.app[metrics_key].forged.labels(reason="plain_in_safe_mode").inc()
            raise ProtocolError(403, "plain call refused in safe mode")
        return _utf8(body), False
    safe_mode = request.app.get(safe_mode_key)
    if safe_mode is None:
        raise ProtocolError(400, "safe mode call but no AES key configured")
    (msg_signature,) = _query(request, "msg_signature")
    encrypted = parse_xml(body).get("Encrypt", "")
    if not encrypted:
        raise ProtocolError(400, "safe mode body without Encrypt")
    plain = safe_mode.decrypt(
        encrypted, msg_signature=msg_signature, timestamp=timestamp, nonce=nonce
    )
    return plain, True


def _reply(xml: str | None, *, safe: SafeMode | None, nonce: str, now: float) -> web.Response:
    if xml is None:  # not stored yet: no "success", so that WeChat tries again
        return web.Response(status=503, text="busy")
    if not xml:
        return web.Response(text=SUCCESS)
    if safe is not None:
        xml = safe.encrypt(xml, nonce=nonce, timestamp=str(int(now)))
    return web.Response(text=xml, content_type="application/xml")


async def receive(request: web.Request) -> web.StreamResponse:
    """``POST /wechat``: one message or event from WeChat."""
    app = request.app
    started = time.perf_counter()
    salt = app[settings_key].log_salt.get_secret_value() or app[keys_key].log_salt
    metrics = app[metrics_key]
    openid = request.query.get("openid")
    msg_type = "-"
    try:
        timestamp, nonce = _verify(request)
        body = await _read_body(request)
        plain, safe = _plain_xml(request, body, timestamp, nonce)
        message = to_message(parse_xml(plain))
        openid, msg_type = message.openid, message.event or message.msg_type
        pipeline = app[pipeline_key]
        # A plain body is not covered by the signature: its nonce is good for this body only.
        guard = None if safe else pipeline.nonce_for(timestamp, nonce, plain)
        outcome, xml = await pipeline.handle(message, plain, nonce=guard)
        response = _reply(
            xml, safe=app[safe_mode_key] if safe else None, nonce=nonce, now=app[clock_key]()
        )
    except ProtocolError as exc:
        outcome = "refused"
        response = web.Response(status=exc.status, text=exc.reason)
        loggers.webhook.warning(
            "refused status=%s reason=%s user=%s",
            exc.status,
            exc.reason,
            loggers.hash_openid(openid, salt),
        )
    except Exception as exc:
        loggers.safe_exception(
            loggers.webhook, "failed user=%s", loggers.hash_openid(openid, salt), exc=exc
        )
        metrics.requests.labels(outcome="error").inc()
        raise
    elapsed = time.perf_counter() - started
    metrics.requests.labels(outcome=outcome).inc()
    metrics.latency.observe(elapsed)
    loggers.webhook.info(
        "wechat outcome=%s status=%s user=%s type=%s ms=%.1f",
        outcome,
        response.status,
        loggers.hash_openid(openid, salt),
        msg_type,
        elapsed * 1000,
    )
    return response

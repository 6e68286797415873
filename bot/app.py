"""The app factory: one cleanup context per resource, registered in dependency order."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web
from sqlalchemy import text

from bot import webhook
from bot.api import WeChatAPI
from bot.config import Settings
from bot.dispatcher import Dispatcher, create_dispatcher
from bot.metrics import Metrics
from bot.pipeline import Pipeline
from bot.protocol import SafeMode
from bot.push import Pusher
from bot.typedefs import (
    api_key,
    clock_key,
    dispatcher_key,
    engine_key,
    http_key,
    metrics_key,
    pipeline_key,
    pusher_key,
    reader_key,
    safe_mode_key,
    sessionmaker_key,
    settings_key,
)
from handlers.inquiries.matcher import default_matcher
from handlers.inquiries.reminders import send_due
from handlers.tips.privacy import Sealer
from handlers.tips.rules import load_rules
from storage import migrate
from storage.clock import Clock, system_clock
from storage.db import is_sqlite, open_database

log = logging.getLogger("pingan.app")


async def _database(app: web.Application) -> AsyncIterator[None]:
    settings = app[settings_key]
    database = open_database(settings.database_url)
    if is_sqlite(settings.database_url) and await migrate.is_fresh(database.engine):
        log.info("fresh SQLite database: applying migrations")
        await migrate.upgrade(database.engine)
    app[engine_key] = database.engine
    app[sessionmaker_key] = database.sessionmaker
    app[reader_key] = database.reader
    yield
    await database.dispose()


async def _http(app: web.Application) -> AsyncIterator[None]:
    async with aiohttp.ClientSession() as session:
        app[http_key] = session
        yield


async def _services(app: web.Application) -> AsyncIterator[None]:
    settings = app[settings_key]
    clock = app[clock_key]
    api = WeChatAPI(
        http=app[http_key],
        base=settings.wechat_api_base,
        appid=settings.wechat_appid,
        secret=settings.wechat_secret.get_secret_value(),
        sessionmaker=app[sessionmaker_key],
        clock=clock,
        timeout=settings.api_timeout,
        retries=settings.api_retries,
        backoff=settings.api_backoff,
        metrics=app[metrics_key],
    )
    pusher = Pusher(
        api=api,
        sessionmaker=app[sessionmaker_key],
        clock=clock,
        log_salt=settings.log_salt.get_secret_value(),
    )
    pipeline = Pipeline(
        settings=settings,
        dispatcher=app[dispatcher_key],
        sessionmaker=app[sessionmaker_key],
        reader=app[reader_key],
        pusher=pusher,
        metrics=app[metrics_key],
        clock=clock,
        services={
            "api": api,
            "pusher": pusher,
            "sealer": Sealer(settings.seal_key.get_secret_value()),
            "tip_rules": load_rules(),
            "matcher": default_matcher(),  # loads jieba's dictionary now, not on a request
        },
    )
    app[api_key], app[pusher_key], app[pipeline_key] = api, pusher, pipeline
    recovery = asyncio.create_task(pipeline.recover(), name="recover-deliveries")
    housekeeping = asyncio.create_task(_housekeeping(app), name="housekeeping")
    yield
    housekeeping.cancel()
    await asyncio.gather(recovery, housekeeping, return_exceptions=True)
    await pipeline.close()


async def _housekeeping(app: web.Application) -> None:
    """Every minute: due visit reminders, and pushes that never went out (moves into the
    scheduler with issue 6)."""
    pusher = app[pusher_key]
    while True:
        try:
            await send_due(sessionmaker=app[sessionmaker_key], pusher=pusher, clock=app[clock_key])
            await pusher.resend_stale()
        except Exception:
            log.exception("housekeeping failed")
        await asyncio.sleep(60)


async def healthz(request: web.Request) -> web.Response:
    try:
        async with request.app[reader_key]() as session:
            await session.execute(text("SELECT 1"))
    except Exception as exc:
        log.warning("health check failed: %s", type(exc).__name__)
        return web.json_response({"status": "unavailable", "store": "down"}, status=503)
    return web.json_response({"status": "ok", "store": "up"})


async def metrics(request: web.Request) -> web.Response:
    registry = request.app[metrics_key]
    return web.Response(body=registry.render(), headers={"Content-Type": registry.content_type})


def create_app(
    settings: Settings,
    *,
    clock: Clock = system_clock,
    dispatcher: Dispatcher | None = None,
) -> web.Application:
    app = web.Application(client_max_size=settings.max_body_bytes)
    app[settings_key] = settings
    app[clock_key] = clock
    app[metrics_key] = Metrics()
    app[dispatcher_key] = dispatcher or create_dispatcher()
    if settings.aes_key:
        app[safe_mode_key] = SafeMode(
            token=settings.wechat_token.get_secret_value(),
            aes_key=settings.aes_key,
            appid=settings.wechat_appid,
        )
    app.cleanup_ctx.extend([_database, _http, _services])
    app.router.add_get("/wechat", webhook.server_check)
    app.router.add_post("/wechat", webhook.receive)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    return app

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
from bot.keys import Keys
from bot.leader import leadership_for
from bot.liveness import liveness_for
from bot.media import MediaFetcher
from bot.metrics import Metrics
from bot.pipeline import Pipeline
from bot.protocol import SafeMode
from bot.push import Pusher
from bot.scheduler import Scheduler
from bot.sweeper import Sweeper
from bot.timetable import Context, all_jobs
from bot.typedefs import (
    api_key,
    clock_key,
    dispatcher_key,
    engine_key,
    http_key,
    keys_key,
    metrics_key,
    pipeline_key,
    pusher_key,
    reader_key,
    safe_mode_key,
    scheduler_key,
    sessionmaker_key,
    settings_key,
    sweeper_key,
)
from bot.wecom import Robot
from handlers.inquiries.matcher import default_matcher
from handlers.tips.rules import load_rules
from storage import migrate
from storage.clock import Clock, system_clock, utc
from storage.db import is_sqlite, open_database
from storage.jobruns import StoredRuns
from storage.keychecks import verify_store_key

log = logging.getLogger("pingan.app")


async def _database(app: web.Application) -> AsyncIterator[None]:
    settings = app[settings_key]
    database = open_database(settings.database_url)
    if is_sqlite(settings.database_url) and await migrate.is_fresh(database.engine):
        log.info("fresh SQLite database: applying migrations")
        await migrate.upgrade(database.engine)
    # A key that cannot read this store would silently cut every reporter off: stop here.
    await verify_store_key(database.sessionmaker, app[keys_key], utc(app[clock_key]))
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
    keys = app[keys_key]
    robot = None
    if settings.duty_robot:
        robot = Robot(
            http=app[http_key],
            base=settings.wecom_api_base,
            key=settings.duty_robot_key,
            timeout=settings.api_timeout,
        )
    pusher = Pusher(
        api=api,
        sessionmaker=app[sessionmaker_key],
        clock=clock,
        keys=keys,
        log_salt=settings.log_salt.get_secret_value() or keys.log_salt,
        metrics=app[metrics_key],
        robot=robot,
        retry_base=settings.push_retry_base,
        retry_cap=settings.push_retry_cap,
        max_attempts=settings.push_max_attempts,
    )
    liveness = liveness_for(app[engine_key])
    await liveness.start()
    pipeline = Pipeline(
        settings=settings,
        dispatcher=app[dispatcher_key],
        sessionmaker=app[sessionmaker_key],
        reader=app[reader_key],
        pusher=pusher,
        media=MediaFetcher(api, app[reader_key]),
        keys=keys,
        liveness=liveness,
        metrics=app[metrics_key],
        clock=clock,
        services={
            "api": api,
            "pusher": pusher,
            "keys": keys,
            "tip_rules": load_rules(),
            "matcher": default_matcher(),  # loads jieba's dictionary now, not on a request
        },
    )
    app[api_key], app[pusher_key], app[pipeline_key] = api, pusher, pipeline
    app[sweeper_key] = Sweeper(pipeline)
    background = [asyncio.create_task(app[sweeper_key].run(), name="sweep-deliveries")]
    # Reminders, push retries, escalations, the weekly digest: one process runs them.
    context = Context(
        sessionmaker=app[sessionmaker_key],
        pusher=pusher,
        keys=keys,
        settings=settings,
        clock=clock,
    )
    scheduler = Scheduler(
        all_jobs(),
        context,
        leadership=leadership_for(app[engine_key]),
        runs=StoredRuns(app[sessionmaker_key]),
    )
    app[scheduler_key] = scheduler
    await scheduler.start()
    yield
    await scheduler.stop()
    for task in background:
        task.cancel()
    await asyncio.gather(*background, return_exceptions=True)
    await pipeline.close()
    await liveness.stop()


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
    app[keys_key] = Keys.from_setting(settings.seal_key.get_secret_value())
    if settings.mode != "plain" and not settings.aes_key:
        msg = f"PINGAN_WECHAT_MODE={settings.mode} needs PINGAN_WECHAT_AES_KEY"
        raise SystemExit(msg)
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

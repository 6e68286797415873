"""Typed keys for what the aiohttp app holds."""

from __future__ import annotations

from aiohttp import ClientSession, web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.api import WeChatAPI
from bot.config import Settings
from bot.dispatcher import Dispatcher
from bot.keys import Keys
from bot.metrics import Metrics
from bot.pipeline import Pipeline
from bot.protocol import SafeMode
from bot.push import Pusher
from bot.scheduler import Scheduler
from bot.sweeper import Sweeper
from bot.timetable import Context
from storage.clock import Clock

settings_key = web.AppKey("settings", Settings)
clock_key: web.AppKey[Clock] = web.AppKey("clock")
metrics_key = web.AppKey("metrics", Metrics)
dispatcher_key = web.AppKey("dispatcher", Dispatcher)
engine_key = web.AppKey("engine", AsyncEngine)
sessionmaker_key = web.AppKey("sessionmaker", async_sessionmaker[AsyncSession])
reader_key = web.AppKey("reader", async_sessionmaker[AsyncSession])
http_key = web.AppKey("http", ClientSession)
api_key = web.AppKey("api", WeChatAPI)
pusher_key = web.AppKey("pusher", Pusher)
pipeline_key = web.AppKey("pipeline", Pipeline)
safe_mode_key = web.AppKey("safe_mode", SafeMode)
keys_key = web.AppKey("keys", Keys)
sweeper_key = web.AppKey("sweeper", Sweeper)
scheduler_key: web.AppKey[Scheduler[Context]] = web.AppKey("scheduler")

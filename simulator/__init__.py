"""The fake WeChat platform (API server) and a sender of signed webhook calls."""

from __future__ import annotations

from simulator.api import create_platform_app
from simulator.clock import Clock, FakeClock
from simulator.errors import ApiError
from simulator.records import ApiCall, PlatformEvent
from simulator.replies import Attempt, InvalidReply, Reply, SentCall
from simulator.sender import WeChatSender
from simulator.state import FakeWeChat
from simulator.transport import WebhookClient

__all__ = [
    "ApiCall",
    "ApiError",
    "Attempt",
    "Clock",
    "FakeClock",
    "FakeWeChat",
    "InvalidReply",
    "PlatformEvent",
    "Reply",
    "SentCall",
    "WeChatSender",
    "WebhookClient",
    "create_platform_app",
]

"""Prometheus metrics, one registry per app so that several apps can live in one process."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4


class Metrics:
    content_type = CONTENT_TYPE_PLAIN_0_0_4

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "pingan_webhook_requests",
            "Webhook requests by outcome",
            ["outcome"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "pingan_webhook_latency_seconds",
            "Time from request to response",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 5, 10),
            registry=self.registry,
        )
        self.dedup_hits = Counter(
            "pingan_dedup_hits", "Deliveries seen before (WeChat retries)", registry=self.registry
        )
        self.api_errors = Counter(
            "pingan_wechat_api_errors",
            "WeChat API errors by path and errcode",
            ["path", "errcode"],
            registry=self.registry,
        )
        self.handler_errors = Counter(
            "pingan_handler_errors", "Handlers that raised or timed out", registry=self.registry
        )
        self.late_replies = Counter(
            "pingan_late_replies",
            "Replies sent through the customer-service API after the passive budget",
            registry=self.registry,
        )

        self.taken_over = Counter(
            "pingan_deliveries_taken_over",
            "Deliveries a dead process left half-done, finished by this one",
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "pingan_rate_limited",
            "Messages over a user's rate limit (stored, answered politely)",
            registry=self.registry,
        )
        self.forged = Counter(
            "pingan_webhook_forged",
            "Calls refused as forged: a plain body in safe mode or a reused nonce",
            ["reason"],
            registry=self.registry,
        )
        self.pushes = Counter(
            "pingan_pushes",
            "Customer-service push attempts by outcome: sent, held, failed (retried), dead, "
            "dropped",
            ["status"],
            registry=self.registry,
        )
        self.pushes_dead = Counter(
            "pingan_pushes_dead",
            "Pushes given up: a permanent error, or transient failures past the last attempt",
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)

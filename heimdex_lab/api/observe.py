"""What the server tells its operator: Prometheus metrics, one JSON access-log line a request."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

access_log = logging.getLogger("heimdex_lab.access")

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_STAGE_BUCKETS = (0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0, 3600.0)


class _VideosByState(Collector):
    """``heimdex_videos{state=…}``, counted in the catalog at scrape time."""

    def __init__(self, counts: Callable[[], dict[str, int]]) -> None:
        self.counts = counts

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "heimdex_videos", "Videos in the library by state", labels=["state"]
        )
        for state, n in sorted(self.counts().items()):
            family.add_metric([state], n)
        yield family


class Metrics:
    """The server's own registry (not the process default, so two servers never share one)."""

    def __init__(
        self, state_counts: Callable[[], dict[str, int]], queue: Callable[[], int]
    ) -> None:
        self.registry = CollectorRegistry()
        self.requests = Histogram(
            "heimdex_http_request_duration_seconds",
            "HTTP request latency by route",
            ["method", "route", "status"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.stages = Histogram(
            "heimdex_ingest_stage_duration_seconds",
            "Time each ingest stage took",
            ["stage"],
            buckets=_STAGE_BUCKETS,
            registry=self.registry,
        )
        queue_length = Gauge(
            "heimdex_ingest_queue_length",
            "Uploads waiting or being ingested",
            registry=self.registry,
        )
        queue_length.set_function(queue)
        self.registry.register(_VideosByState(state_counts))

    def observe_stage(self, stage: str, seconds: float) -> None:
        self.stages.labels(stage=stage).observe(seconds)


def route_of(scope: dict[str, Any]) -> str:
    """The route template (``/api/v1/videos/{video_id}``), so ids do not explode the labels."""
    route = scope.get("route")
    path = getattr(route, "path", None) or getattr(route, "path_format", None)
    return str(path) if path else "unmatched"


class AccessLog:
    """ASGI middleware: request id, user, route, status and latency of every HTTP request.

    Pure ASGI (not ``BaseHTTPMiddleware``), so upload bodies stream through untouched.
    """

    def __init__(self, app: Any, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = dict(scope.get("headers") or [])
        request_id = headers.get(b"x-request-id", b"").decode("latin-1")[:64] or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        status = {"code": 500}

        async def send_with_id(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route = route_of(scope)
            self.metrics.requests.labels(scope["method"], route, str(status["code"])).observe(
                seconds
            )
            access_log.info(
                json.dumps({
                    "request_id": request_id,
                    "user": scope["state"].get("user"),
                    "method": scope["method"],
                    "route": route,
                    "path": scope["path"],
                    "status": status["code"],
                    "latency_ms": round(seconds * 1000, 1),
                })
            )  # fmt: skip

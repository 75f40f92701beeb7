"""``/healthz``, ``/readyz``, ``/metrics``: for probes and Prometheus; no sign-in needed."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from heimdex_lab.api.deps import Ctx
from heimdex_lab.api.models import Health, Readiness

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    """The process is up."""
    return Health(status="ok")


_NOT_READY = {"model": Readiness, "description": "not ready: ``checks`` says why"}


@router.get("/readyz", response_model=Readiness, responses={503: _NOT_READY})
def readyz(ctx: Ctx) -> JSONResponse:
    """Catalog, vector store and the required models are usable."""
    checks: dict[str, str] = {}
    try:
        ctx.catalog.state_counts()
        checks["catalog"] = "ok"
    except Exception as exc:
        checks["catalog"] = f"failed: {exc}"
    lib = ctx.library(ctx.settings.user)
    try:
        lib.vectors.client.heartbeat()
        checks["vectors"] = "ok"
    except Exception as exc:
        checks["vectors"] = f"failed: {exc}"
    for status in lib.models():
        # Two speech models under "auto" (tiny.en and base): a failure of either one stands.
        key = f"model:{status.job}"
        if status.job in ("speech", "text") and checks.get(key, "ok") == "ok":
            checks[key] = "ok" if status.available else f"{status.reason}"
    ready = all(v == "ok" for v in checks.values())
    body = Readiness(ready=ready, checks=checks).model_dump()
    return JSONResponse(body, status_code=200 if ready else 503)


@router.get("/metrics", response_class=Response,
            responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}},
                             "description": "Prometheus text exposition format"}})  # fmt: skip
def metrics(ctx: Ctx) -> Response:
    """Prometheus text format: request latency by route, ingest stages, queue, videos."""
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    return Response(generate_latest(ctx.metrics.registry), media_type=CONTENT_TYPE_LATEST)

"""The ASGI app: health, readiness and Prometheus metrics, plus every adapter's routes (Intercom, Slack, playground).

``create_app(service)`` wraps an already built :class:`~bot.service.Service`; its lifespan starts and stops the
service's workers. :func:`serve` builds everything from settings and runs it under uvicorn (``autopilot serve``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.limits import BodyLimit
from bot.service import Service, build_service
from bot.settings import Settings

__all__ = ["create_app", "serve", "work"]

log = logging.getLogger("autopilot.http")


async def _readiness(service: Service) -> dict[str, str]:
    core, checks = service.context.core, {}
    try:
        async with core.store.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        sections = await core.index.count()
        checks["index"] = "ok" if sections > 0 else "error: empty index (run `autopilot ingest`)"
    except Exception as exc:
        checks["index"] = f"error: {type(exc).__name__}"
    checks["model"] = "ok" if core.classifier.labels else "error: no labels"
    return checks


def create_app(service: Service, *, manage_lifecycle: bool = True) -> Starlette:
    """The ASGI app over ``service``; with ``manage_lifecycle`` its lifespan starts and stops the workers."""

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> Response:
        checks = await _readiness(service)
        ready = all(value == "ok" for value in checks.values())
        return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)

    async def metrics(_: Request) -> Response:
        return Response(generate_latest(service.context.registry), media_type=CONTENT_TYPE_LATEST)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        if manage_lifecycle:
            await service.start()
        try:
            yield
        finally:
            if manage_lifecycle:
                await service.stop()

    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        *service.routes,
    ]
    middleware = [Middleware(BodyLimit, max_bytes=service.settings.max_body_bytes)]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.service = service
    return app


async def serve(settings: Settings) -> None:
    """Build the service from ``settings`` and serve it with uvicorn until interrupted."""
    service = await build_service(settings)
    app = create_app(service)
    config = uvicorn.Config(app, host=settings.host, port=settings.port, log_level="info", access_log=False)
    await uvicorn.Server(config).serve()


async def work(settings: Settings) -> None:
    """Run only the inbox and outbox workers (``autopilot worker``), for deployments whose web processes run with
    ``AUTOPILOT_WORKERS=0`` and only acknowledge."""
    service = await build_service(settings.model_copy(update={"workers": max(1, settings.workers)}))
    await service.start()
    try:
        await asyncio.Event().wait()
    finally:
        await service.stop()

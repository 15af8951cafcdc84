"""The ASGI app: health, readiness and Prometheus metrics, plus every adapter's routes (Intercom, Slack, playground).

``create_app(service)`` wraps an already built :class:`~bot.service.Service`; its lifespan starts and stops the
service's workers. :func:`serve` builds everything from settings and runs it under uvicorn (``autopilot serve``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import signal
import sys
from collections.abc import AsyncIterator

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.composition import build_web
from bot.limits import BodyLimit
from bot.service import Service
from bot.settings import Settings

__all__ = ["create_app", "serve", "work"]

log = logging.getLogger("autopilot.http")


async def _readiness(service: Service) -> dict[str, str]:
    core, checks = service.context.core, {}
    try:
        await core.store.ping()
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
    """Build the service from ``settings`` and serve it with uvicorn until interrupted.

    With ``AUTOPILOT_WORKER_MODE=process`` (the default) the inbox and outbox workers run in a child process, so the
    pipeline's CPU work never delays an acknowledgement; ``inline`` runs them in the web process's event loop.
    """
    child = None
    if settings.workers and settings.worker_mode == "process":
        child = multiprocessing.get_context("spawn").Process(
            target=_worker_main, args=(settings.model_dump(by_alias=True), os.getpid()), name="autopilot-worker"
        )
        child.start()
        settings = settings.model_copy(update={"workers": 0})
    try:
        service = await build_web(settings)
        app = create_app(service)
        config = uvicorn.Config(app, host=settings.host, port=settings.port, log_level="info", access_log=False)
        await uvicorn.Server(config).serve()
    finally:
        if child is not None:
            child.terminate()
            child.join(10)


def _worker_main(values: dict[str, object], parent: int) -> None:
    """Entry point of the worker child process: run :func:`work`, and exit when the web process is gone."""
    settings = Settings.model_validate(values)
    os.nice(10)  # acknowledgements are latency-critical; the backlog is durable and can wait a little

    async def main() -> None:
        task = asyncio.create_task(work(settings))
        while not task.done():  # a parent killed with SIGKILL cannot stop us: notice it and stop too
            if os.getppid() != parent:
                task.cancel()
                break
            await asyncio.sleep(0.5)
        with contextlib.suppress(asyncio.CancelledError):
            await task

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    asyncio.run(main())


async def work(settings: Settings) -> None:
    """Run only the inbox and outbox workers (``autopilot worker``), for deployments whose web processes run with
    ``AUTOPILOT_WORKERS=0`` and only acknowledge."""
    service = await build_web(settings.model_copy(update={"workers": max(1, settings.workers)}))
    await service.start()
    try:
        await asyncio.Event().wait()
    finally:
        await service.stop()

"""The ASGI app: health, readiness and Prometheus metrics, plus every adapter's routes (Intercom, Slack, playground).

``create_app(service)`` wraps an already built :class:`~bot.service.Service`; its lifespan starts and stops the
service's workers. :func:`serve` builds everything from settings and runs it under uvicorn (``autopilot serve``).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import multiprocessing
import os
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import TYPE_CHECKING

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from automations.delivery import STOP_GRACE_S
from automations.ports import KnowledgeIndex
from bot.limits import BodyLimit
from bot.settings import SettingError, Settings
from store import SqlEventStore

if TYPE_CHECKING:
    from bot.service import Service

__all__ = ["create_app", "ensure_index", "serve", "work"]

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


class _Server(uvicorn.Server):
    """uvicorn's server, but a graceful shutdown on SIGTERM or SIGINT ends the process with 0 (uvicorn re-raises the
    signal afterwards, which makes a clean stop look like a crash to a supervisor)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """uvicorn's handlers, without the re-raise."""
        with super().capture_signals():
            yield
            self._captured_signals.clear()


async def serve(settings: Settings) -> None:
    """Serve the web app with uvicorn until SIGINT/SIGTERM (uvicorn drains requests, then the service stops).

    The port opens as soon as webhooks can be acknowledged (:class:`bot.web.FastStart`); the model, the index and
    the adapters load behind it. With ``AUTOPILOT_WORKER_MODE=process`` (the default) the inbox and outbox workers
    run in a child process, so the pipeline's CPU work never delays an acknowledgement; ``inline`` runs them in the
    web process's event loop; ``AUTOPILOT_WORKERS=0`` runs none (an acknowledge-only process).
    """
    from bot.web import FastStart

    child = None
    if settings.workers and settings.worker_mode == "process":
        child = multiprocessing.get_context("spawn").Process(
            target=_worker_main, args=(settings.model_dump(by_alias=True), os.getpid()), name="autopilot-worker"
        )
        child.start()
        settings = settings.model_copy(update={"workers": 0})

    async def build(store: SqlEventStore) -> tuple[ASGIApp, Callable[[], Awaitable[None]]]:
        service = await _build_service(settings, store=store, fill_index=True)  # acknowledgements keep flowing
        await service.start()
        return create_app(service, manage_lifecycle=False), service.stop

    try:
        app = FastStart(settings, build)
        config = uvicorn.Config(app, host=settings.host, port=settings.port, log_level="info", access_log=False,
                                ws="none")  # fmt: skip
        await _Server(config).serve()
    finally:
        if child is not None:
            child.terminate()  # SIGTERM: it stops claiming, releases what it holds and exits 0
            child.join(10)


async def _build_service(
    settings: Settings, *, store: SqlEventStore | None = None, fill_index: bool = False
) -> Service:
    """The service, its blocking imports and model load in a thread so that this process's event loop keeps running
    (acknowledging webhooks, hearing signals); with ``fill_index`` an empty embedded index is filled first."""
    composition = await asyncio.to_thread(importlib.import_module, "bot.composition")
    warm = await asyncio.to_thread(composition.warm_up, settings)
    if fill_index:
        await ensure_index(settings, warm.chroma)
    service: Service = await composition.build_web(settings, store=store, warm=warm)
    return service


async def ensure_index(settings: Settings, index: KnowledgeIndex) -> None:
    """An empty embedded index is filled from ``KB_PATH`` (logged); an empty Chroma server is only warned about."""
    from knowledge.ingest import ingest

    if await index.count() > 0:
        return
    if settings.chroma_host:
        log.error("the knowledge index on %s is empty: run `autopilot ingest`; /readyz stays 503", settings.chroma_host)
        return
    log.warning("the knowledge index is empty: indexing %s first", settings.kb_path)
    await ingest(settings.kb_path, index)


def _worker_main(values: dict[str, object], parent: int) -> None:
    """Entry point of the worker child process: run :func:`work`, and exit when the web process is gone."""
    settings = Settings.model_validate(values)
    os.nice(10)  # acknowledgements are latency-critical; the backlog is durable and can wait a little

    async def main() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(work(settings, stop=stop))
        while not task.done():  # a parent killed with SIGKILL cannot stop us: notice it and stop too
            if os.getppid() != parent:
                stop.set()
                break
            await asyncio.sleep(0.5)
        await task

    asyncio.run(main())


async def work(settings: Settings, *, stop: asyncio.Event | None = None, port: int | None = None) -> None:
    """Run only the inbox and outbox workers (``autopilot worker``), until SIGTERM/SIGINT or ``stop``.

    On the signal they stop claiming, finish the item in hand, hand back what they claimed and did not start (due
    again at once, for another worker) and return within about :data:`STOP_GRACE_S`. With ``port``, ``/healthz`` and
    ``/metrics`` (queue depths and the worker's counters) are served there.
    """
    if settings.workers < 1:
        raise SettingError("AUTOPILOT_WORKERS", f"is {settings.workers}; a worker process needs at least 1 loop")
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    # the blocking parts run in a thread, so that a SIGTERM during start-up is heard
    building, stopped = asyncio.create_task(_build_service(settings)), asyncio.create_task(stop.wait())
    await asyncio.wait({building, stopped}, return_when=asyncio.FIRST_COMPLETED)
    if not building.done():
        building.cancel()
        await asyncio.gather(building, return_exceptions=True)
        log.info("stopped during start-up; nothing was claimed")
        return
    stopped.cancel()
    service = building.result()
    await service.start()
    server = None
    if port is not None:
        server = uvicorn.Server(uvicorn.Config(_worker_app(service), host=settings.host, port=port,
                                               log_level="warning", access_log=False, lifespan="off"))  # fmt: skip
        server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        serving = asyncio.create_task(server.serve())
    log.info("worker running %d inbox loops; SIGTERM stops it gracefully", service.workers)
    stopping = time.monotonic()
    try:
        await stop.wait()
        stopping = time.monotonic()
        log.info("stopping: no new claims; finishing the items in hand")
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        if server is not None:
            server.should_exit = True
            await serving
        await asyncio.wait_for(service.stop(), timeout=STOP_GRACE_S + 5)
    log.info("worker stopped in %.2fs", time.monotonic() - stopping)


def _worker_app(service: Service) -> Starlette:
    """``/healthz`` and ``/metrics`` of a worker process."""

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok", "workers": service.workers})

    async def metrics(_: Request) -> Response:
        return Response(generate_latest(service.context.registry), media_type=CONTENT_TYPE_LATEST)

    return Starlette(routes=[Route("/healthz", healthz), Route("/metrics", metrics)])

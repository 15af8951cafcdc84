"""The web process's front: it accepts Intercom webhooks about a second after start, and loads the rest behind it.

Acknowledging a webhook needs only the signature check, redaction and the inbox, so that is all the front imports
and opens before the port is served. The full service (model, index, Slack, the playground, readiness) is built in
the background and takes over every path once it is ready; until then ``/readyz`` answers 503 ``starting`` and
other paths 503 with ``Retry-After`` (Slack and Intercom retry). ``/healthz`` answers at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from automations.clocks import SystemClock
from automations.groupcommit import GroupCommitInbox
from bot.intercom.webhooks import WebhookMetrics, webhook_route
from bot.limits import BodyLimit
from bot.settings import Settings
from store.queues import SqlInbox
from store.sql import SqlEventStore

__all__ = ["FastStart"]

log = logging.getLogger("autopilot.http")
Build = Callable[[SqlEventStore], Awaitable[tuple[ASGIApp, Callable[[], Awaitable[None]]]]]
"""Builds the full app over the front's open store; returns it and what stops it."""


class FastStart:
    """ASGI app: the acknowledging front until the full app (from ``build``) is ready, then the full app."""

    def __init__(self, settings: Settings, build: Build) -> None:
        """``build`` runs in the background after start-up (see :func:`bot.http.serve`)."""
        self.settings, self._build = settings, build
        self.full: ASGIApp | None = None
        self._stop_full: Callable[[], Awaitable[None]] | None = None
        self._store: SqlEventStore | None = None
        self._inbox_store: SqlEventStore | None = None
        self._task: asyncio.Task[None] | None = None
        self._front: ASGIApp | None = None
        self._error = ""
        self.started = time.monotonic()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Lifespan here; requests to the full app once built, else to the front."""
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        app = self.full or self._front
        assert app is not None, "the front is built at start-up"
        await app(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self._startup()
                except Exception as exc:
                    log.exception("web process failed to start")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self._shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _startup(self) -> None:
        # SQLite: the inbox has a file of its own, and the main store opens behind the port
        front = await SqlEventStore.open(self.settings.inbox_db_url or self.settings.db_url)
        if self.settings.inbox_db_url:
            self._inbox_store = front
        else:
            self._store = front
        self._front = self._front_app(GroupCommitInbox(SqlInbox(front.engine)))
        self._task = asyncio.create_task(self._load())
        log.info("accepting webhooks %.2fs after start; loading the rest", time.monotonic() - self.started)

    async def _load(self) -> None:
        try:
            if self._store is None:
                self._store = await SqlEventStore.open(self.settings.db_url)
            self.full, self._stop_full = await self._build(self._store)
        except Exception as exc:
            self._error = f"{type(exc).__name__}: {exc}"
            log.exception("the service could not be built; only webhooks are acknowledged")
            return
        log.info("ready %.1fs after start", time.monotonic() - self.started)

    async def _shutdown(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._stop_full is not None:
            await self._stop_full()
        elif self._store is not None:
            await self._store.close()
        if self._inbox_store is not None:
            await self._inbox_store.close()

    def _front_app(self, inbox: GroupCommitInbox) -> ASGIApp:
        registry = CollectorRegistry()
        secret = self.settings.intercom_client_secret
        metrics_ = WebhookMetrics.register(registry)
        route = webhook_route(secret=secret, inbox=inbox, clock=SystemClock(), metrics=metrics_)

        async def healthz(_: Request) -> Response:
            return JSONResponse({"status": "ok"})

        async def readyz(_: Request) -> Response:
            state = f"error: {self._error}" if self._error else "starting"
            return JSONResponse({"ready": False, "checks": {"service": state}}, status_code=503)

        async def metrics(_: Request) -> Response:
            return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

        async def later(_: Request) -> Response:
            return JSONResponse({"status": "starting"}, status_code=503, headers={"Retry-After": "5"})

        routes = [
            Route("/healthz", healthz, methods=["GET"]), Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]), route,
            Route("/{path:path}", later, methods=["GET", "POST", "PUT", "DELETE", "PATCH"]),
        ]  # fmt: skip
        middleware = [Middleware(BodyLimit, max_bytes=self.settings.max_body_bytes)]
        return Starlette(routes=routes, middleware=middleware)

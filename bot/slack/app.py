"""The Bolt for Python app (HTTP mode at ``/slack/events``, or Socket Mode) and its Web API client.

One :class:`AsyncApp` serves events, slash commands and interactivity. ``process_before_response=True`` makes Bolt
answer Slack only after a listener finished, so an event is in the inbox before Slack hears 200; anything slow runs
after the ack (the inbox worker, or Bolt lazy listeners). Requests are verified by Bolt's signature check (forged
or older than five minutes: 401).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.internals import parse_body
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bot.context import Context
from bot.settings import Settings
from bot.slack.agents import register_agents
from bot.slack.cx import Managers, register_cx
from bot.slack.handoffs import register_claims
from bot.slack.home import register_home
from bot.slack.qa import register_qa_grades

__all__ = ["build_bolt_app", "events_route", "socket_mode_runner", "web_client"]

log = logging.getLogger("autopilot.slack")
EVENTS_PATH = "/slack/events"


def web_client(settings: Settings) -> AsyncWebClient:
    """The Web API client: ``SLACK_API_URL`` as base URL; connection errors and 429s (``Retry-After``) retried
    once by slack_sdk before the outbox's own backoff takes over."""
    return AsyncWebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=15,
        retry_handlers=[AsyncConnectionErrorRetryHandler(), AsyncRateLimitErrorRetryHandler(max_retry_count=1)],
    )


def build_bolt_app(service: Context, client: AsyncWebClient) -> AsyncApp:
    """The Bolt app with every listener: agents' questions and feedback, Claim, ``/cx`` and App Home."""
    settings = service.settings
    app = AsyncApp(
        name="support-autopilot",
        client=client,
        signing_secret=settings.slack_signing_secret,
        request_verification_enabled=settings.slack_signing_secret is not None,
        process_before_response=True,
    )
    managers = Managers(settings.manager_ids, settings.slack_manager_usergroup_id, client)
    register_agents(app, service)
    register_claims(
        app, store=service.core.store, conversations=service.conversations, outbox=service.outbox,
        clock=service.clock, app_id=settings.intercom_app_id,
    )  # fmt: skip
    register_cx(app, service, managers)
    register_home(app, service, managers)
    if service.transcripts is not None:
        register_qa_grades(app, records=service.transcripts, clock=service.clock, allowed=managers.allows)
    return app


def events_route(app: AsyncApp, signing_secret: str) -> Route:
    """``POST /slack/events``: events, commands and interactivity through Bolt's Starlette adapter. A body that
    cannot be parsed gets 400 (401 first when it is not signed correctly) instead of an error inside Bolt."""
    handler = AsyncSlackRequestHandler(app)
    verifier = SignatureVerifier(signing_secret)

    async def endpoint(request: Request) -> Response:
        body = await request.body()  # Starlette caches it for the adapter
        try:
            parse_body(body.decode("utf-8"), request.headers.get("content-type"))
        except ValueError:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            if not verifier.is_valid_request(body, dict(request.headers)):
                return PlainTextResponse("invalid signature", status_code=401)
            return PlainTextResponse("malformed request body", status_code=400)
        return await handler.handle(request)

    return Route(EVENTS_PATH, endpoint, methods=["POST"])


def socket_mode_runner(app: AsyncApp, app_token: str) -> Callable[[], Awaitable[None]]:
    """A ``Parts.background`` loop serving the app over Socket Mode until cancelled."""

    async def run() -> None:
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        handler = AsyncSocketModeHandler(app, app_token)
        try:
            await handler.connect_async()  # type: ignore[no-untyped-call]
            log.info("slack socket mode connected")
            await asyncio.Event().wait()
        finally:
            await handler.close_async()  # type: ignore[no-untyped-call]

    return run

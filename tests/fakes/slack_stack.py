"""The whole Slack side of the service for scenario tests: the real service and ASGI app (real core, SQLite,
Chroma, model) with the Slack adapter pointed at a :class:`~tests.fakes.slack_api.FakeSlackApi`."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from automations.delivery import Backoff
from bot.composition import build_web
from bot.http import create_app
from bot.service import Service
from bot.settings import Settings
from bot.slack.wiring import slack_parts
from tests.fakes.slack_api import FakeSlackApi, SlackDelivery

__all__ = ["SECRET", "SlackStack", "slack_settings", "slack_stack"]

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TOKEN = "xoxb-test-token"
MANAGER = "UMANAGER"
CHANNELS = {"slack_channel_t1": "C_T1", "slack_channel_t2": "C_T2", "slack_channel_fraud": "C_FRAUD"}


def slack_settings(settings: Settings, fake: FakeSlackApi, **overrides: Any) -> Settings:
    """``settings`` with Slack on and every Slack URL on the fake."""
    values: dict[str, Any] = {
        "slack_signing_secret": SECRET, "slack_bot_token": TOKEN, "slack_api_url": fake.api_url,
        "slack_manager_user_ids": MANAGER, "slack_digest_channel": "C_DIGEST", "intercom_app_id": "abc123",
        **CHANNELS,
    }  # fmt: skip
    return settings.model_copy(update={**values, **overrides})


@dataclass
class SlackStack:
    """A started service, its ASGI client, and Slack's sides (the fake Web API, the signed deliveries)."""

    service: Service
    http: httpx.AsyncClient
    slack: SlackDelivery
    fake: FakeSlackApi

    async def settle(self, within: float = 30.0) -> None:
        """Wait until the inbox and the outbox have nothing pending."""
        context = self.service.context
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if await context.inbox.pending() == 0 and await context.outbox.pending() == 0:
                return
            await asyncio.sleep(0.05)
        raise AssertionError("queues did not drain")


@contextlib.asynccontextmanager
async def slack_stack(
    settings: Settings, make_core: Callable[..., Awaitable[Any]], fake: FakeSlackApi, *, start: bool = True
) -> AsyncIterator[SlackStack]:
    """Build (and by default start) the service with only the Slack adapter plugged in."""
    core = await make_core(settings)
    backoff = Backoff(base_s=0.05, max_s=0.5, max_attempts=8, jitter=0.0)
    service = await build_web(settings, core=core, parts=[slack_parts], backoff=backoff)
    app = create_app(service)
    if start:
        await service.start()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://autopilot.test") as http:
        try:
            yield SlackStack(service, http, SlackDelivery(http, SECRET, fake), fake)
        finally:
            if start:
                await service.stop()

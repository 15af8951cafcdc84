"""Slack requests reach Bolt through the real ASGI app; only correctly signed, fresh requests get in."""

from __future__ import annotations

import json
import time

import pytest

from bot.composition import build_web
from bot.context import Parts
from bot.settings import Settings
from bot.slack.wiring import slack_parts
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.slack_stack import slack_settings, slack_stack

pytestmark = pytest.mark.slow


@pytest.fixture
def fake():  # type: ignore[no-untyped-def]
    with FakeSlackApi() as server:
        yield server


def _mention(text: str = "<@UBOT> how do I freeze my card?") -> dict[str, object]:
    return {"type": "app_mention", "user": "UAGENT", "text": text, "ts": "1700000000.000100", "channel": "C_AGENTS"}


async def test_forged_and_stale_signatures_are_refused(settings: Settings, make_core, fake) -> None:  # type: ignore[no-untyped-def]
    async with slack_stack(slack_settings(settings, fake), make_core, fake) as stack:
        body = json.dumps(
            {"type": "event_callback", "event_id": "EvForged", "team_id": "T0001", "event": _mention()}
        ).encode()
        forged = await stack.http.post(
            "/slack/events", content=body, headers={"Content-Type": "application/json",
            "X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=" + "0" * 64},
        )  # fmt: skip
        assert forged.status_code == 401
        unsigned = await stack.http.post("/slack/events", content=body, headers={"Content-Type": "application/json"})
        assert unsigned.status_code == 401
        stale = await stack.slack.post(body, "application/json", timestamp=int(time.time()) - 6 * 60)
        assert stale.status_code == 401
        other_secret = stack.slack.__class__(stack.http, "not-the-secret", fake)
        assert (await other_secret.post(body, "application/json")).status_code == 401
        assert await stack.service.context.inbox.get("slack:EvForged") is None
        fresh = await stack.slack.post(body, "application/json", timestamp=int(time.time()) - 60)
        assert fresh.status_code == 200
        assert await stack.service.context.inbox.get("slack:EvForged") is not None


async def test_url_verification_and_oversized_bodies(settings: Settings, make_core, fake) -> None:  # type: ignore[no-untyped-def]
    async with slack_stack(slack_settings(settings, fake), make_core, fake) as stack:
        body = json.dumps({"type": "url_verification", "challenge": "c-123", "token": "x"}).encode()
        response = await stack.slack.post(body, "application/json")
        assert response.status_code == 200 and response.json()["challenge"] == "c-123"
        huge = json.dumps({"type": "event_callback", "event": _mention("x" * (2 * 1024 * 1024))}).encode()
        assert (await stack.slack.post(huge, "application/json")).status_code == 413
        assert (await stack.slack.post(b"{not json", "application/json")).status_code == 400
        bad_form = b"payload=%7Bnot-json"
        assert (await stack.slack.post(bad_form, "application/x-www-form-urlencoded")).status_code == 400
        garbage = await stack.http.post(
            "/slack/events", content=b"{not json", headers={"Content-Type": "application/json"}
        )
        assert garbage.status_code == 401


async def test_slack_is_off_without_credentials(settings: Settings, make_core) -> None:  # type: ignore[no-untyped-def]
    core = await make_core(settings)
    service = await build_web(settings, core=core, parts=[slack_parts])
    assert service.routes == [] and service.dispatcher._senders == {}
    empty = await slack_parts(service.context)
    assert empty == Parts()
    outbound_only = settings.model_copy(update={"slack_bot_token": "xoxb-1", "slack_channel_t1": "C1"})
    service = await build_web(outbound_only, core=core, parts=[slack_parts])
    assert service.routes == [] and "slack" in service.dispatcher._senders
    assert len(service.context.effects.registered) == 1
    socket = outbound_only.model_copy(update={"slack_app_token": "xapp-1"})
    parts = await slack_parts((await build_web(socket, core=core, parts=[])).context)
    assert len(parts.background) == 1 and parts.routes == [] and "slack" in parts.handlers

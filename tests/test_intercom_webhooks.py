"""Intercom webhooks end to end: signed, spec-shaped notifications through the real ASGI app, the real core and a
real database (SQLite; PostgreSQL where marked), processed by the service's inbox worker.

No Intercom token is configured here, so planned Intercom actions stay in the outbox where the tests read them;
``tests/test_intercom_crash.py`` sends them to a fake Intercom over HTTP.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
import yaml
from jsonschema import Draft202012Validator

from automations.conversations import AgentEventKind
from automations.models import Action, Decision, OutcomeState
from automations.queues import ItemStatus, OutboxAction
from bot.composition import build_web
from bot.context import Context, Parts
from bot.http import create_app
from bot.intercom.models import Notification, html_to_text
from bot.intercom.signing import sign, verify
from bot.intercom.wiring import intercom_parts
from bot.service import Service
from bot.settings import Settings
from evals.intercom_payloads import (
    BOT_ADMIN_ID,
    SECRET,
    admin_assigned,
    admin_closed,
    admin_replied,
    ping,
    rating_added,
    signed,
    user_created,
    user_replied,
)
from evals.intercom_payloads import conversation as conversation_item
from tests.conftest import SHARED

URL = "/intercom/webhooks"
ANSWERED = "Where is my card? It has not come yet"


def reply_key(part_id: str) -> str:
    return f"intercom:intercom:{part_id}:reply"


async def slack_like_parts(context: Context) -> Parts:
    """Another channel's hand-off effect (what the Slack adapter contributes): one post per hand-off."""

    def effect(decision: Decision) -> list[OutboxAction]:
        clocks = [[d.id, d.due.isoformat()] for d in decision.deadlines]
        payload = json.dumps({"contact": decision.contact_id, "deadlines": clocks})
        return [OutboxAction(f"slack:{decision.contact_id}:post", "slack", "post", payload, decision.decided_at)]

    return Parts(handoff_effects=[effect])


class Harness:
    """A built service (workers not running: :meth:`drain` runs the inbox worker's rounds) and an HTTP client."""

    def __init__(self, service: Service, client: httpx.AsyncClient) -> None:
        self.service, self.client = service, client
        self.context = service.context

    async def post(self, payload: dict[str, Any] | bytes, **headers: str) -> httpx.Response:
        body, signed_headers = signed(payload)
        return await self.client.post(URL, content=body, headers={**signed_headers, **headers})

    async def drain(self) -> None:
        while await self.service.processor.run_once():
            pass

    async def decision(self, part_id: str) -> Decision | None:
        return await self.context.core.store.get_decision(f"intercom:{part_id}")

    async def outbox_keys(self, conversation_id: str) -> list[str]:
        from sqlalchemy import select

        from store.queues import _outbox

        query = select(_outbox.c.key).where(_outbox.c.payload.contains(f'"conversation_id":"{conversation_id}"'))
        async with self.context.core.store.engine.connect() as conn:
            return sorted((await conn.execute(query)).scalars())


@pytest.fixture
async def make_harness(settings: Settings, make_core) -> AsyncIterator[Callable[..., Awaitable[Harness]]]:  # type: ignore[no-untyped-def]
    clients: list[httpx.AsyncClient] = []

    async def factory(
        *, database_url: str | None = None, secret: str | None = SECRET, jurisdiction: str = "US"
    ) -> Harness:
        updates: dict[str, Any] = {
            "default_jurisdiction": jurisdiction,
            "intercom_client_secret": secret,
            "intercom_bot_admin_id": BOT_ADMIN_ID,
            "intercom_team_t1": "5017691",
            "intercom_team_t2": "5017692",
        }
        if database_url:
            updates["database_url"] = database_url
        config = settings.model_copy(update=updates)
        core = await make_core(config)
        service = await build_web(config, core=core, parts=[intercom_parts, slack_like_parts])
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(service)), base_url="http://test")
        clients.append(client)
        return Harness(service, client)

    yield factory
    for client in clients:
        await client.aclose()


@pytest.fixture
async def harness(make_harness) -> Harness:  # type: ignore[no-untyped-def]
    return await make_harness()


# --- the payload builders follow the spec ------------------------------------------------------------------------


def _nullable(node: Any) -> Any:
    """OpenAPI 3.0 schema → JSON Schema: ``nullable: true`` becomes an explicit ``null`` alternative."""
    if isinstance(node, list):
        return [_nullable(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _nullable(v) for k, v in node.items() if k not in ("nullable", "example", "x-tags")}
    if node.get("nullable"):
        return {"anyOf": [out, {"type": "null"}]}
    return out


@functools.cache
def _conversation_validator() -> Draft202012Validator:
    spec = yaml.load((SHARED / "specs" / "intercom-api-2.14.yaml").read_text(), Loader=yaml.CSafeLoader)
    root = {"$ref": "#/components/schemas/conversation", "components": _nullable(spec["components"])}
    return Draft202012Validator(root)


@pytest.mark.parametrize(
    "payload",
    [
        user_created("1", "hello"), user_replied("1", "hello", teammates=[BOT_ADMIN_ID]), admin_replied("1"),
        admin_assigned("1"), admin_closed("1"), rating_added("1", 4, "quick"),
    ],
    ids=lambda p: p["topic"],
)  # fmt: skip
def test_payload_builders_match_the_spec_conversation_model(payload: dict[str, Any]) -> None:
    found = _conversation_validator().iter_errors(payload["data"]["item"])
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in found]
    assert errors == []
    assert Notification.model_validate(payload).conversation().id == "1"


def test_spec_validator_rejects_a_wrongly_typed_conversation() -> None:
    bad = conversation_item("1")
    bad["conversation_parts"]["conversation_parts"] = [{"id": 5, "body": ["not", "a", "string"]}]
    assert list(_conversation_validator().iter_errors(bad))


# --- signatures and HTML ---------------------------------------------------------------------------------------


def test_signature_is_sha1_hmac_of_the_raw_body() -> None:
    body = b'{"topic":"ping"}'
    import hashlib
    import hmac

    assert sign(body, "s") == "sha1=" + hmac.new(b"s", body, hashlib.sha1).hexdigest()
    assert verify(body, sign(body, "s"), "s")
    assert not verify(body, sign(body, "other"), "s")
    assert not verify(body + b" ", sign(body, "s"), "s")
    assert not verify(body, sign(body, "s").removeprefix("sha1="), "s")
    assert not verify(body, None, "s")


def test_html_bodies_become_plain_text() -> None:
    html = "<p>Hi &amp; hello,</p><p>my card <b>never</b><br>arrived &lt;3</p><ul><li>one</li><li>two</li></ul>"
    assert html_to_text(html) == "Hi & hello,\nmy card never\narrived <3\none\ntwo"
    assert html_to_text(None) == ""
    assert html_to_text("<img src='x.png'>") == ""


# --- bad deliveries --------------------------------------------------------------------------------------------


async def test_without_a_client_secret_the_route_answers_503(make_harness) -> None:  # type: ignore[no-untyped-def]
    harness = await make_harness(secret=None)
    assert (await harness.post(ping())).status_code == 503


# --- the contact lifecycle ------------------------------------------------------------------------------------


async def _answered_then(harness: Harness, conversation_id: str, follow_up: str) -> tuple[Decision, Decision]:
    customer = f"u-{conversation_id}"
    opening = user_created(conversation_id, ANSWERED, message_id=f"{conversation_id}-m1", contact_id=customer)
    reply = user_replied(conversation_id, follow_up, part_id=f"{conversation_id}-p2", contact_id=customer)
    assert (await harness.post(opening)).status_code == 200
    await harness.drain()
    assert (await harness.post(reply)).status_code == 200
    await harness.drain()
    first, second = await harness.decision(f"{conversation_id}-m1"), await harness.decision(f"{conversation_id}-p2")
    assert first is not None and second is not None
    return first, second


async def test_a_question_is_answered_with_a_reply_and_the_customer_confirms(harness: Harness) -> None:
    first, second = await _answered_then(harness, "1001", "Thanks, that worked!")
    assert first.action is Action.ANSWER and first.category == "card_arrival"
    assert (first.customer_id, first.conversation_id, first.source) == ("u-1001", "intercom:1001", "intercom")
    reply = await harness.context.outbox.get(reply_key("1001-m1"))
    assert reply is not None and reply.target == "intercom" and "Did that help?" in reply.payload
    body = json.loads(reply.payload)["body"]  # the section as Intercom HTML: bold heading, its text, a real link
    assert first.reply and first.article_url and body.startswith("<p><b>") and "**" not in body
    assert f'<a href="{first.article_url}">' in body and body.count(first.article_url) == 2
    assert second.reason == "customer_confirmed"
    outcome = await harness.context.core.store.get_outcome(first.contact_id)
    assert outcome is not None and outcome.state is OutcomeState.RESOLVED
    state = await harness.context.conversations.get("intercom:1001")
    assert state is not None and state.last_contact_id == "intercom:1001-p2" and not state.bot_silenced
    assert not any(k.startswith("slack:") for k in await harness.outbox_keys("1001"))


async def test_still_needing_help_hands_off_with_context_to_every_channel(harness: Harness) -> None:
    first, second = await _answered_then(harness, "1002", "That didn't help, I still have no card")
    assert second.action is Action.HANDOFF and second.reason == "customer_still_needs_help"
    outcome = await harness.context.core.store.get_outcome(first.contact_id)
    assert outcome is not None and outcome.state is OutcomeState.ESCALATED
    keys = set(await harness.outbox_keys("1002"))
    assert {"intercom:intercom:1002-p2:note", "intercom:intercom:1002-p2:assign"} <= keys
    assert reply_key("1002-p2") not in keys
    assert await harness.context.outbox.get("slack:intercom:1002-p2:post") is not None


async def test_redelivered_and_replayed_notifications_reply_once(harness: Harness) -> None:
    payload = user_created("1003", ANSWERED, message_id="1003-m1")
    responses = [await harness.post(payload) for _ in range(3)]
    assert [r.json()["status"] for r in responses] == ["accepted", "duplicate", "duplicate"]
    await harness.drain()
    assert (await harness.post(payload)).json()["status"] == "duplicate"  # after processing too
    # Intercom sends a second notification for the same message (new notification id): the core dedupes it
    again = user_created("1003", ANSWERED, message_id="1003-m1")
    assert (await harness.post(again)).json()["status"] == "accepted"
    await harness.drain()
    keys = await harness.outbox_keys("1003")
    assert keys.count(reply_key("1003-m1")) == 1
    assert [k for k in keys if k.endswith(":reply")] == [reply_key("1003-m1")]
    # replaying the stored item through the handler (a crash before it was marked done) changes nothing
    item = await harness.context.inbox.get(f"intercom:{payload['id']}")
    assert item is not None and item.status is ItemStatus.DONE
    await harness.service.processor._handlers["intercom"].handle(item)
    assert await harness.outbox_keys("1003") == keys


async def test_text_is_redacted_before_the_inbox_row_is_written(harness: Harness) -> None:
    text = "My card 4111 1111 1111 1111 never came, mail me at jane.doe@example.com or call 07700 900123"
    payload = user_created("1004", text, message_id="1004-m1")
    assert (await harness.post(payload)).status_code == 200
    row = await harness.context.inbox.get(f"intercom:{payload['id']}")
    assert row is not None
    for secret in ("4111 1111 1111 1111", "jane.doe", "07700 900123", "example.com"):
        assert secret not in row.payload
    assert "[EMAIL]" in row.payload and "[PHONE]" in row.payload
    await harness.drain()
    decision = await harness.decision("1004-m1")
    assert decision is not None and "jane.doe" not in decision.text


async def test_the_whole_flow_on_both_databases(make_harness, store_url: str) -> None:  # type: ignore[no-untyped-def]
    harness = await make_harness(database_url=store_url)
    await harness.service.start()
    try:
        payloads = [
            user_created("2001", ANSWERED, message_id="2001-m1", contact_id="u2001"),
            user_created("2002", "Can I speak to a real person about my card?", message_id="2002-m1"),
        ]
        for payload in payloads:
            assert (await harness.post(payload)).json()["status"] == "accepted"
            assert (await harness.post(payload)).json()["status"] == "duplicate"
        for _ in range(200):
            if await harness.context.inbox.pending() == 0:
                break
            await asyncio.sleep(0.05)
        assert await harness.context.inbox.pending() == 0
        answered, handed = await harness.decision("2001-m1"), await harness.decision("2002-m1")
        assert answered is not None and answered.action is Action.ANSWER and answered.customer_id == "u2001"
        assert handed is not None and handed.action is Action.HANDOFF
        assert await harness.context.outbox.get(reply_key("2001-m1")) is not None
        assert await harness.context.outbox.get("slack:intercom:2002-m1:post") is not None
        await harness.post(admin_replied("2002"))
        await harness.post(rating_added("2002", 2))
        for _ in range(200):
            if await harness.context.inbox.pending() == 0:
                break
            await asyncio.sleep(0.05)
        events = [e.kind for e in await harness.context.conversations.agent_events("intercom:2002-m1")]
        assert events == [AgentEventKind.FIRST_RESPONSE, AgentEventKind.CSAT]
    finally:
        await harness.service.stop()


# --- where the customer is: received_at and jurisdiction from the notification ------------------------------------

JAN_14 = 1_768_384_800  # Wednesday 2026-01-14 10:00 UTC; Monday 19 January is a US federal holiday (MLK Day)
JAN_31 = 1_769_853_600  # Saturday 2026-01-31 10:00 UTC: a month later has no 31st
PRIVACY = "Under data protection law I want you to delete all my personal data you hold"
UNAUTHORISED = "There is a card payment of 80 dollars on my account that I didn't make"
CALIFORNIA = {"location": {"type": "location", "country": "United States", "region": "California", "city": "Fresno"}}


@pytest.mark.parametrize(
    ("text", "at", "where", "default", "expected"),
    [
        # the contact's location: GB, one calendar month, the last day of February
        (PRIVACY, JAN_31, {"contact": {"location": {"type": "location", "country": "United Kingdom",
                                                    "region": "England"}}}, "US",
         [["privacy_request", "2026-02-28T23:59:59+00:00"]]),
        # a US state name becomes US-CA: the CCPA's 45 days
        (PRIVACY, JAN_14, {"contact": CALIFORNIA}, "US", [["privacy_request", "2026-02-28T23:59:59+00:00"]]),
        # the conversation's custom attribute wins over the contact's location
        (PRIVACY, JAN_14, {"contact": CALIFORNIA, "custom_attributes": {"jurisdiction": "za"}}, "US",
         [["privacy_request", "2026-02-13T23:59:59+00:00"]]),
        # nothing said: the configured default (DEFAULT_JURISDICTION), here South Africa's 30 days
        (PRIVACY, JAN_14, {}, "ZA", [["privacy_request", "2026-02-13T23:59:59+00:00"]]),
        # ...and with the US default, privacy law gives no clock (the CCPA is California's only)
        (PRIVACY, JAN_14, {}, "US", []),
        # Regulation E: 10 business days, the weekends and MLK Day skipped
        (UNAUTHORISED, JAN_14, {"contact": CALIFORNIA}, "GB",
         [["reg_e_error_resolution", "2026-01-29T23:59:59+00:00"]]),
        (UNAUTHORISED, JAN_14, {"custom_attributes": {"jurisdiction": "GB"}}, "US", []),
    ],
    ids=["gb-location", "us-state", "conversation-attribute", "default-za", "default-us", "reg-e", "reg-e-not-gb"],
)  # fmt: skip
async def test_a_regulated_contact_gets_the_deadline_of_where_it_is(  # type: ignore[no-untyped-def]
    make_harness, text: str, at: int, where: dict[str, Any], default: str, expected: list[list[str]]
) -> None:
    harness = await make_harness(jurisdiction=default)
    conversation_id = "3001"  # a fresh database for each case
    payload = user_created(conversation_id, text, message_id=f"{conversation_id}-m1", created_at=at, **where)
    assert _conversation_validator().is_valid(payload["data"]["item"])  # still the spec's conversation
    assert (await harness.post(payload)).status_code == 200
    row = await harness.context.inbox.get(f"intercom:{payload['id']}")
    assert row is not None and "Fresno" not in row.payload and "England" not in row.payload  # only the ISO code
    await harness.drain()
    decision = await harness.decision(f"{conversation_id}-m1")
    assert decision is not None and decision.action is Action.HANDOFF
    post = await harness.context.outbox.get(f"slack:intercom:{conversation_id}-m1:post")
    assert post is not None
    assert json.loads(post.payload)["deadlines"] == expected

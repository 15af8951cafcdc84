"""Contract: every request the python-intercom SDK sends for us satisfies Intercom's OpenAPI 2.14 description.

Prism (``tests/plugins/prism.py``) serves ``../shared/specs/intercom-api-2.14.yaml``: ``prism mock --errors`` answers
a request that violates the contract with an error instead of a mock, and ``prism proxy --errors`` in front of the
fake Intercom checks our requests *and* the fake's responses, so the fake used by the fault tests cannot drift from
the real wire format either.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import yaml
from intercom import AdminReplyConversationRequest, AsyncIntercom
from intercom.core.api_error import ApiError
from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from automations.delivery import Backoff, OutboxDispatcher, PermanentFailure
from automations.fakes import SettableClock
from automations.models import Action, Channel, Decision, Handoff
from automations.queues import ItemStatus
from bench.fakes.intercom_server import FakeIntercom
from bot.intercom.actions import plan_actions
from bot.intercom.helpcenter import fetch_published
from bot.intercom.sender import API_VERSION, NO_SDK_RETRIES, IntercomSender, delivery_error, intercom_client
from bot.settings import Settings
from store import SqlEventStore
from store.queues import SqlOutbox
from tests.plugins.prism import INTERCOM_SPEC, run_prism

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
REPLY = (
    "**When will my card arrive?**\n\nCards arrive within **5 working days** <script>x</script>:\n\n"
    "1. Open the app > Card.\n2. Tap **Track delivery**.\n\n- UK: 2-3 days\n- Abroad: up to 10 days\n\n"
    "More in “Card delivery”: https://help.example.test/card-delivery"
)
REPLY_HTML = (
    "<p><b>When will my card arrive?</b></p><p>Cards arrive within <b>5 working days</b> &lt;script&gt;x&lt;/script&gt;"
    ":</p><ol><li>Open the app &gt; Card.</li><li>Tap <b>Track delivery</b>.</li></ol><ul><li>UK: 2-3 days</li>"
    '<li>Abroad: up to 10 days</li></ul><p>More in “Card delivery”: <a href="https://help.example.test/card-delivery">'
    "https://help.example.test/card-delivery</a></p><p>Did that help?</p>"
)
ADMIN = "991267001"
TOKEN = "test-token"


def settings_for(base_url: str) -> Settings:
    return Settings(
        INTERCOM_BASE_URL=base_url, INTERCOM_ACCESS_TOKEN=TOKEN, INTERCOM_BOT_ADMIN_ID=ADMIN,
        INTERCOM_TEAM_T1="9001", INTERCOM_TEAM_FRAUD="9004",
    )  # type: ignore[call-arg]  # fmt: skip


def decisions() -> list[Decision]:
    answered = Decision(
        contact_id="intercom:c-1", channel=Channel.CUSTOMER, text="where is my card", category="card_arrival",
        group="cards", confidence=0.93, action=Action.ANSWER, tier="bot", reason="answered", decided_at=T0,
        conversation_id="intercom:123", source="intercom", reply=REPLY, article_id="card-delivery",
        article_url="https://help.example.test/card-delivery",
    )  # fmt: skip
    handoff = Handoff(
        tier="fraud", reason="safety:suspected_fraud", summary="Unknown payment.",
        first_response_due=T0 + timedelta(minutes=15), resolution_due=T0 + timedelta(hours=4),
    )  # fmt: skip
    handed_off = replace(
        answered, contact_id="intercom:c-2", conversation_id="intercom:456", action=Action.HANDOFF, tier="fraud",
        category="suspected_fraud", reply=None, article_url=None, handoff=handoff,
    )  # fmt: skip
    return [answered, handed_off]


@pytest.fixture(scope="module")
def proxied_fake() -> Iterator[tuple[FakeIntercom, str]]:
    """The fake Intercom behind ``prism proxy --errors``: (fake, proxy URL)."""
    with FakeIntercom(token=TOKEN) as fake, run_prism("proxy", upstream=fake.url) as url:
        yield fake, url


@pytest.fixture
async def outbox(tmp_path) -> AsyncIterator[SqlOutbox]:  # type: ignore[no-untyped-def]
    store = await SqlEventStore.open(f"sqlite:///{tmp_path / 'contract.db'}")
    yield SqlOutbox(store.engine)
    await store.close()


async def test_every_action_kind_satisfies_the_contract(prism_mock: str) -> None:
    settings = settings_for(prism_mock)
    actions = [a for d in decisions() for a in plan_actions(d, settings, silenced=False)]
    assert {a.kind for a in actions} == {"reply", "note", "assign", "tag"}
    sender = IntercomSender.from_settings(settings)
    try:
        for action in actions:
            result = await sender.send(action)  # a contract violation is a 4xx → PermanentFailure
            assert result.startswith(("conversation:", "tag:")), result
    finally:
        await sender.aclose()


async def test_help_center_listing_satisfies_the_contract(prism_mock: str) -> None:
    client, http = intercom_client(settings_for(prism_mock))
    try:
        articles = await fetch_published(client)
    finally:
        await http.aclose()
    assert articles and all(a.url and a.title for a in articles)


async def test_a_request_that_breaks_the_contract_is_refused(prism_mock: str) -> None:
    """The check can fail: the SDK types ``message_type`` as ``Literal[...] | Any``, so a typo reaches the wire."""
    client, http = intercom_client(settings_for(prism_mock))
    try:
        with pytest.raises(ApiError) as raised:
            await client.conversations.reply(
                "123",
                request=AdminReplyConversationRequest(message_type="shout", admin_id=ADMIN, body="hi"),
                request_options=NO_SDK_RETRIES,
            )
    finally:
        await http.aclose()
    mapped = delivery_error(raised.value)
    assert isinstance(mapped, PermanentFailure) and "422" in str(mapped)


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    """The Intercom 2.14 OpenAPI description, parsed."""
    return yaml.load(INTERCOM_SPEC.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # type: ignore[no-any-return]


def response_errors(spec: dict[str, Any], response: httpx.Response) -> list[str]:
    """Why ``response`` does not match the schema the spec documents for its operation and status ([] if it does)."""
    path, method = response.request.url.path, response.request.method.lower()
    for template, item in spec["paths"].items():
        if re.fullmatch(re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(template)), path) and method in item:
            documented = item[method]["responses"].get(str(response.status_code))
            if documented is None:
                return [f"status {response.status_code} is not documented"]
            schema = documented.get("content", {}).get("application/json", {}).get("schema")
            if schema is None:
                return []
            registry = Registry().with_resource("urn:intercom", Resource.from_contents(spec, DRAFT4))
            validator = OAS30Validator({"$ref": f"urn:intercom{schema['$ref']}"}, registry=registry)
            return [
                f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(response.json())
            ]
    return [f"no operation {method.upper()} {path} in the spec"]


def checking_client(spec: dict[str, Any]) -> tuple[httpx.AsyncClient, list[str]]:
    """An httpx client that checks every response against the spec, and keeps Prism's ``sl-violations`` headers."""
    found: list[str] = []

    async def check(response: httpx.Response) -> None:
        await response.aread()
        where = f"{response.request.method} {response.request.url.path} -> {response.status_code}"
        found.extend(f"{where}: {error}" for error in response_errors(spec, response))
        if "sl-violations" in response.headers:
            found.append(f"{where}: prism: {response.headers['sl-violations']}")

    return httpx.AsyncClient(timeout=10.0, event_hooks={"response": [check]}), found


def test_the_response_check_can_fail(spec: dict[str, Any]) -> None:
    request = httpx.Request("GET", "http://intercom.test/articles")
    bad = {"type": "list", "data": [{"id": 5, "workspace_id": "w", "title": "t", "author_id": "x", "state": "live",
                                     "created_at": 1, "updated_at": 1}]}  # fmt: skip
    errors = response_errors(spec, httpx.Response(200, json=bad, request=request))
    assert any("'x' is not of type 'integer'" in e for e in errors) and any("state" in e for e in errors)
    assert response_errors(spec, httpx.Response(418, json={}, request=request)) == ["status 418 is not documented"]


async def test_through_prism_proxy_the_fake_and_the_sdk_agree_with_the_contract(
    proxied_fake: tuple[FakeIntercom, str], outbox: SqlOutbox, spec: dict[str, Any]
) -> None:
    fake, url = proxied_fake
    settings = settings_for(url)
    actions = [a for d in decisions() for a in plan_actions(d, settings, silenced=False)]
    await outbox.enqueue(actions)
    http, violations = checking_client(spec)
    client = AsyncIntercom(base_url=url, token=TOKEN, headers={"Intercom-Version": API_VERSION}, httpx_client=http)
    sender = IntercomSender(client, admin_id=ADMIN, http=http)
    dispatcher = OutboxDispatcher(outbox, {"intercom": sender}, SettableClock(T0), backoff=Backoff(max_attempts=1))
    try:
        while await dispatcher.run_once():
            pass
        fake.add_article("77", title="Card delivery", body="<p>Cards arrive in 5 days.</p>", updated_at=1_767_000_000)
        fake.add_article("78", title="Draft", body="<p>Not yet.</p>", state="draft", updated_at=1_767_000_000)
        articles = await fetch_published(client)
    finally:
        await sender.aclose()
    for action in actions:
        stored = await outbox.get(action.key)
        assert stored is not None and stored.status is ItemStatus.DONE, (action.key, stored and stored.error)
    assert [p["part_type"] for p in fake.parts("123")] == ["comment"]
    assert [p["body"] for p in fake.parts("123")] == [REPLY_HTML]  # the formatted reply, as Intercom received it
    assert [p["part_type"] for p in fake.parts("456")] == ["note", "assignment"]
    assert [a.id for a in articles] == ["77"]
    assert violations == []  # the fake's responses match the documented schemas too

"""The playground over real HTTP (ASGI): the page, validation, decisions recorded, follow-ups, no internal articles."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from automations.models import Action, Channel, Contact, Decision
from automations.queues import OutboxAction
from bot.composition import build_web
from bot.context import Context, Parts
from bot.http import create_app
from bot.playground import STATIC, playground_parts, reply_view
from bot.service import Service
from bot.settings import DEFAULT_KB, Settings
from knowledge.articles import load_article

INTERNAL = [load_article(path) for path in sorted((Path(DEFAULT_KB) / "internal").glob("*.md"))]
TIER_POST = "tier-post"


async def tier_posts(context: Context) -> Parts:
    """Another channel's hand-off effect (like Slack's tier-channel post), to see the playground queue it."""

    def effect(decision: Decision) -> list[OutboxAction]:
        payload = json.dumps({"tier": decision.tier, "contact": decision.contact_id})
        return [OutboxAction(f"{TIER_POST}:{decision.contact_id}", TIER_POST, "post", payload, context.clock.now())]

    return Parts(handoff_effects=[effect])


@pytest.fixture
async def service(settings: Settings, make_core) -> Service:  # type: ignore[no-untyped-def]
    core = await make_core(settings)
    return await build_web(settings, core=core, parts=[playground_parts, tier_posts])


@pytest.fixture
async def client(service: Service) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(service))
    async with httpx.AsyncClient(transport=transport, base_url="http://playground.test") as http:
        yield http


def session() -> str:
    return uuid.uuid4().hex


async def say(client: httpx.AsyncClient, who: str, text: str) -> dict[str, object]:
    response = await client.post("/playground/messages", json={"session": who, "text": text})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_page_and_assets_are_served_with_a_strict_policy(client: httpx.AsyncClient) -> None:
    page = await client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert '<script src="/playground/static/playground.js"' in page.text
    assert "<script>" not in page.text  # no inline script: the policy would block it
    for asset, kind in (("playground.js", "javascript"), ("playground.css", "text/css")):
        response = await client.get(f"/playground/static/{asset}")
        assert response.status_code == 200 and kind in response.headers["content-type"]
    assert (await client.get("/playground/static/../playground.py")).status_code == 404


def test_the_script_never_renders_text_as_html() -> None:
    script = (STATIC / "playground.js").read_text()
    assert "textContent" in script
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in script, sink


async def test_an_answer_is_recorded_before_the_page_gets_it(client: httpx.AsyncClient, service: Service) -> None:
    who = session()
    shown = await say(client, who, "How do I activate my new card?")
    assert shown["action"] == "answer" and shown["category"] == "activate_my_card"
    article = load_article(Path(DEFAULT_KB) / "public" / "activate-card.md").meta
    assert shown["article"] == {"id": article.id, "title": article.title, "url": article.url}
    assert shown["reply"] and shown["handoff"] is None
    assert shown["reply_blocks"] == reply_view(str(shown["reply"]))  # the blocks the page renders
    assert any(block["type"] == "list" for block in shown["reply_blocks"])  # type: ignore[union-attr,index]
    assert 0.0 <= float(shown["confidence"]) <= 1.0  # type: ignore[arg-type]
    stored = await service.context.core.store.get_decision(str(shown["contact_id"]))
    assert stored is not None
    assert stored.source == "playground" and stored.channel is Channel.CUSTOMER
    assert stored.customer_id == f"playground:{who}"
    assert stored.action is Action.ANSWER and stored.article_id == "activate-card"


async def test_every_message_is_a_fresh_contact(client: httpx.AsyncClient) -> None:
    who = session()
    first = await say(client, who, "How do I activate my new card?")
    second = await say(client, who, "How do I activate my new card?")
    assert first["contact_id"] != second["contact_id"]
    assert re.fullmatch(r"playground:[0-9a-f]{32}", str(first["contact_id"]))


@pytest.mark.parametrize(
    ("text", "tier", "tier_name"),
    [
        ("I received a subpoena about my account from a court in Ohio", "legal", "Legal"),
        ("someone took money from my account without permission", "fraud", "Fraud and disputes"),
    ],
)
async def test_protected_topics_go_to_their_team(
    client: httpx.AsyncClient, service: Service, text: str, tier: str, tier_name: str
) -> None:
    shown = await say(client, session(), text)
    assert shown["action"] == "handoff" and shown["tier"] == tier and shown["tier_name"] == tier_name
    assert shown["reply"] is None and shown["reply_blocks"] is None and shown["article"] is None
    handoff = shown["handoff"]
    assert isinstance(handoff, dict) and handoff["tier_name"] == tier_name
    due = datetime.fromisoformat(handoff["first_response_due"])
    assert due > datetime.fromisoformat(str(shown["decided_at"]))
    assert f"→ tier {tier}" in handoff["summary"]
    queued = await service.context.outbox.get(f"{TIER_POST}:{shown['contact_id']}")
    assert queued is not None and json.loads(queued.payload)["tier"] == tier


async def test_thanks_resolves_the_previous_answer(client: httpx.AsyncClient, service: Service) -> None:
    who = session()
    answered = await say(client, who, "How do I activate my new card?")
    thanks = await say(client, who, "thanks, that worked")
    assert thanks["action"] == "answer" and thanks["reason"] == "customer_confirmed"
    assert thanks["category"] == answered["category"]
    outcome = await service.context.core.store.get_outcome(str(answered["contact_id"]))
    assert outcome is not None and outcome.state == "resolved"


async def test_still_stuck_hands_off_and_sessions_are_separate(client: httpx.AsyncClient) -> None:
    who, other = session(), session()
    await say(client, who, "How do I activate my new card?")
    elsewhere = await say(client, other, "that didn't help")
    assert elsewhere["reason"] != "customer_still_needs_help"  # another session has no answer to follow up
    stuck = await say(client, who, "that didn't help")
    assert stuck["action"] == "handoff" and stuck["reason"] == "customer_still_needs_help"
    assert stuck["tier"] == "t1" and stuck["category"] == "activate_my_card"


async def test_internal_articles_never_reach_the_page(client: httpx.AsyncClient, service: Service) -> None:
    questions = [
        "I don't recognise a card payment on my statement, how do I dispute it?",
        "I received a subpoena about my account",
        "I want a copy of all the data you hold about me",
        "My card details were leaked in a data breach",
        "Why are you asking about the source of my funds?",
        "What is your procedure for a chargeback?",
    ]
    internal_ids = {article.meta.id for article in INTERNAL}
    leaks = [a.meta.id for a in INTERNAL] + [a.meta.url for a in INTERNAL] + [a.meta.title for a in INTERNAL]
    leaks += [s.body[:60] for a in INTERNAL for s in a.sections if len(s.body) >= 60]
    agent_saw_internal = 0
    for text in questions:
        agent = await service.context.core.pipeline.handle(
            Contact(id=f"agent:{uuid.uuid4().hex}", text=text, channel=Channel.AGENT, source="test")
        )
        agent_saw_internal += agent.article_id in internal_ids
        shown = await say(client, session(), text)
        raw = json.dumps(shown, ensure_ascii=False)
        assert not [leak for leak in leaks if leak in raw], text
    assert agent_saw_internal >= len(questions) // 2  # the questions do reach internal articles on the agent side


async def test_card_numbers_are_redacted_before_storage(client: httpx.AsyncClient, service: Service) -> None:
    shown = await say(client, session(), "my card 4111 1111 1111 1111 was declined, email me at ann@example.com")
    assert "4111" not in str(shown["stored_text"]) and "ann@example.com" not in str(shown["stored_text"])
    stored = await service.context.core.store.get_decision(str(shown["contact_id"]))
    assert stored is not None and "4111 1111" not in stored.text


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"session": "abcdefgh12345678"}',
        b'{"text": "hello"}',
        b'{"session": "abcdefgh12345678", "text": ""}',
        b'{"session": "abcdefgh12345678", "text": "   "}',
        b'{"session": "abcdefgh12345678", "text": 42}',
        b'{"session": "../../etc/passwd", "text": "hello"}',
        b'{"session": "short", "text": "hello"}',
        b'{"session": "abcdefgh12345678", "text": "hello", "channel": "agent"}',
        json.dumps({"session": "abcdefgh12345678", "text": "x" * 4001}).encode(),
    ],
)
async def test_malformed_messages_are_refused(client: httpx.AsyncClient, service: Service, body: bytes) -> None:
    response = await client.post("/playground/messages", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert "error" in response.json()


async def test_oversized_bodies_are_refused(client: httpx.AsyncClient, service: Service) -> None:
    body = json.dumps({"session": "abcdefgh12345678", "text": "x" * (service.settings.max_body_bytes + 1)})
    response = await client.post("/playground/messages", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 413


async def test_only_post_is_accepted(client: httpx.AsyncClient) -> None:
    assert (await client.get("/playground/messages")).status_code == 405


def test_reply_view_is_data_not_html() -> None:
    text = ("**Heading** <script>alert(1)</script>\n\n1. Tap <img src=x onerror=alert(2)>\n2. [Go](https://kb.example/a)"
            "\n\n- [bad](javascript:alert(3))")  # fmt: skip
    assert reply_view(text) == [
        {"type": "paragraph", "lines": [[{"text": "Heading", "strong": True, "href": None},
                                         {"text": " <script>alert(1)</script>", "strong": False, "href": None}]]},
        {"type": "list", "ordered": True, "start": 1, "items": [
            [{"text": "Tap <img src=x onerror=alert(2)>", "strong": False, "href": None}],
            [{"text": "Go", "strong": False, "href": "https://kb.example/a"}],
        ]},
        {"type": "list", "ordered": False, "start": 1, "items": [
            [{"text": "[bad](javascript:alert(3))", "strong": False, "href": None}],
        ]},
    ]  # fmt: skip

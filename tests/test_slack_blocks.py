"""Block Kit messages are built with slack_sdk's models, pass their validators, and stay within Slack's limits;
user text never becomes a mention or a broadcast. The Slack sender classifies Web API failures for the outbox."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk.models.blocks import Block, SectionBlock

from automations.alerts import Alert
from automations.delivery import PermanentFailure, RetryLater
from automations.fakes_queues import InMemoryOutbox
from automations.models import Action, Channel, Decision, Handoff, Passage, Visibility
from automations.queues import ItemStatus, OutboxAction
from bot.settings import Settings
from bot.slack.app import web_client
from bot.slack.blocks import (
    CLAIM_ACTION,
    FEEDBACK_BLOCK,
    MAX_BLOCKS,
    alert_message,
    answer_message,
    check_blocks,
    claimed_message,
    handoff_message,
)
from bot.slack.dashboards import help_blocks, to_mrkdwn
from bot.slack.sender import SlackSender
from tests.fakes.slack_api import FakeSlackApi

NOW = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)


def passage(i: int, visibility: Visibility = Visibility.PUBLIC) -> Passage:
    return Passage(f"art-{i}", f"Article <{i}>", "s", "text", f"https://kb.example/{i}", visibility, ("x",), 0.8)


def decision(**changes: object) -> Decision:
    base = Decision(
        contact_id="slack:Ev1", channel=Channel.AGENT, text="q", category="card_lost", group="Cards", confidence=0.91,
        action=Action.ANSWER, tier="bot", reason="answered", decided_at=NOW, reply="Freeze it in the app <!channel>",
        article_id="art-0", article_url="https://kb.example/0", retrieval_score=0.7,
        passages=tuple(passage(i, Visibility.INTERNAL if i == 1 else Visibility.PUBLIC) for i in range(5)),
    )  # fmt: skip
    fields = {**{f: getattr(base, f) for f in base.__dataclass_fields__}, **changes}
    return Decision(**fields)  # type: ignore[arg-type]


def roundtrip(blocks: tuple[dict, ...]) -> None:
    """Each block parses back into slack_sdk's model and serialises to the same JSON (validators included)."""
    assert 0 < len(blocks) <= MAX_BLOCKS
    for raw in blocks:
        parsed = Block.parse(raw)
        assert parsed is not None and parsed.to_dict() == raw


def test_answer_has_sources_confidence_and_feedback() -> None:
    message = answer_message(decision())
    roundtrip(message.blocks)
    rendered = json.dumps(message.blocks)
    assert "<!channel>" not in rendered and "&lt;!channel&gt;" in rendered
    assert rendered.count("https://kb.example/") == 3  # at most three citations, the cited article first
    assert rendered.index("kb.example/0") < rendered.index("kb.example/1")
    assert "Article &lt;0&gt;" in rendered and "Confidence 91%" in rendered
    [actions] = [b for b in message.blocks if b.get("block_id") == FEEDBACK_BLOCK]
    assert [e["text"]["text"] for e in actions["elements"]] == ["Helpful", "Not helpful"]
    unanswered = answer_message(decision(action=Action.HANDOFF, reply=None, tier="t2", reason="low_retrieval_score"))
    roundtrip(unanswered.blocks)
    assert FEEDBACK_BLOCK not in json.dumps(unanswered.blocks) and "t2" in unanswered.text


def test_handoff_message_fits_slack_limits() -> None:
    handoff = Handoff("fraud", "safety:fraud", "Customer asked: <@U123> " + "x" * 10_000, NOW + timedelta(hours=1),
                      NOW + timedelta(days=1))  # fmt: skip
    d = decision(channel=Channel.CUSTOMER, action=Action.HANDOFF, tier="fraud", handoff=handoff, conversation_id="9",
                 category="c" * 300)  # fmt: skip
    message = handoff_message(d, app_id="app1")
    roundtrip(message.blocks)
    header = message.blocks[0]["text"]["text"]
    assert len(header) <= 150
    assert all(len(b["text"]["text"]) <= 3000 for b in message.blocks if b["type"] == "section" and "text" in b)
    rendered = json.dumps(message.blocks)
    assert "<@U123>" not in rendered and "/inbox/app1/inbox/conversation/9" in rendered and CLAIM_ACTION in rendered
    assert "Open in Intercom" not in json.dumps(handoff_message(d, app_id=None).blocks)
    claimed = claimed_message(d, app_id="app1", user_id="UA", at=NOW)
    roundtrip(claimed.blocks)
    assert CLAIM_ACTION not in json.dumps(claimed.blocks) and "Claimed by <@UA>" in json.dumps(claimed.blocks)


def test_long_alerts_are_split_and_limits_enforced() -> None:
    alert = Alert("k", "digest_daily", "Digest", "line\n" * 30_000, examples=tuple("e" * 1000 for _ in range(9)))
    message = alert_message(alert)
    roundtrip(message.blocks)
    assert len(message.text) <= 4000
    with pytest.raises(ValueError, match="at most 50"):
        check_blocks([SectionBlock(text="x")] * (MAX_BLOCKS + 1))
    roundtrip(check_blocks(help_blocks()))
    assert to_mrkdwn("# Title\n- a\n## Sub\ntext") == "*Title*\n• a\n*Sub*\ntext"


@pytest.fixture
def fake():  # type: ignore[no-untyped-def]
    with FakeSlackApi() as server:
        yield server


def action(kind: str, payload: dict, key: str = "k1") -> OutboxAction:
    return OutboxAction(key=key, target="slack", kind=kind, payload=json.dumps(payload), created_at=NOW)


async def test_sender_classifies_failures(fake) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(SLACK_BOT_TOKEN="xoxb-1", SLACK_API_URL=fake.api_url)  # type: ignore[call-arg]
    outbox = InMemoryOutbox()
    sender = SlackSender(web_client(settings), outbox, tier_channels={"t1": "C_T1"}, digest_channel=None)
    post = action("post_message", {"channel": "C1", "text": "hi", "blocks": []})
    fake.fail("chat.postMessage", status=200, error="channel_not_found")
    with pytest.raises(PermanentFailure, match="channel_not_found"):
        await sender.send(post)
    fake.fail("chat.postMessage", status=200, error="invalid_auth")  # a token fixed later must not lose the post
    with pytest.raises(RetryLater):
        await sender.send(post)
    fake.fail("chat.postMessage", status=429, times=2, retry_after=2)
    with pytest.raises(RetryLater) as limited:
        await sender.send(post)
    assert limited.value.retry_after == 2.0
    assert json.loads(await sender.send(post))["channel"] == "C1"
    # an alert whose hand-off was never posted (dead or absent) goes to the tier channel; no channel at all: permanent
    await outbox.enqueue([action("post_handoff", {}, key="slack:handoff:x")])
    await outbox.kill("slack:handoff:x", error="gone", now=NOW)
    alert = {"thread_of": "x", "tier": "t1", "text": "a", "blocks": [], "title": "a"}
    assert json.loads(await sender.send(action("post_alert", alert)))["channel"] == "C_T1"
    assert (await outbox.get("slack:handoff:x")).status is ItemStatus.DEAD  # type: ignore[union-attr]
    with pytest.raises(PermanentFailure, match="SLACK_DIGEST_CHANNEL"):
        await sender.send(action("post_alert", {**alert, "thread_of": None, "tier": None}))
    with pytest.raises(PermanentFailure, match="unknown"):
        await sender.send(action("nope", {}))

"""Agents ask in Slack: persisted before the ack, answered in the thread from the KB (internal articles included),
with sources, confidence and feedback buttons; retries never answer twice; follow-ups keep the thread's context."""

from __future__ import annotations

import json

import pytest

from automations.models import Action, Channel
from bot.settings import Settings
from bot.slack.blocks import FEEDBACK_BLOCK, HELPFUL_ACTION, NOT_HELPFUL_ACTION
from bot.slack.mrkdwn import plain_text
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.slack_stack import slack_settings, slack_stack

pytestmark = pytest.mark.slow

QUESTION = "How do I report a card as stolen?"


@pytest.fixture
def fake():  # type: ignore[no-untyped-def]
    with FakeSlackApi() as server:
        yield server


def mention(text: str, ts: str, *, thread_ts: str | None = None, channel: str = "C_AGENTS") -> dict[str, object]:
    event: dict[str, object] = {"type": "app_mention", "user": "UAGENT", "text": f"<@UBOT> {text}", "ts": ts,
                                "channel": channel}  # fmt: skip
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def blocks_of(call) -> list[dict]:  # type: ignore[no-untyped-def]
    raw = call.params["blocks"]
    return json.loads(raw) if isinstance(raw, str) else raw


async def test_mention_is_persisted_then_answered_in_thread(settings: Settings, make_core, fake) -> None:  # type: ignore[no-untyped-def]
    async with slack_stack(slack_settings(settings, fake), make_core, fake) as stack:
        response = await stack.slack.event(mention(QUESTION, "1700000001.000100"), event_id="EvQ1")
        assert response.status_code == 200
        assert await stack.service.context.inbox.get("slack:EvQ1") is not None  # persisted before the 200
        [post] = await fake.wait_for("chat.postMessage")
        await stack.settle()
        assert post.params["channel"] == "C_AGENTS" and post.params["thread_ts"] == "1700000001.000100"
        decision = await stack.service.context.core.store.get_decision("slack:EvQ1")
        assert decision is not None and decision.channel is Channel.AGENT and decision.action is Action.ANSWER
        blocks = blocks_of(post)
        rendered = json.dumps(blocks)
        assert decision.article_url and decision.article_url in rendered  # citation link
        # the reply in mrkdwn: the section's heading in bold, no raw Markdown, the article link as a Slack link
        assert decision.reply and decision.reply.startswith("**")
        answer = blocks[0]["text"]["text"]
        assert blocks[0]["type"] == "section" and answer.startswith("*") and "**" not in answer
        assert f"<{decision.article_url}>" in answer and post.params["text"] == plain_text(decision.reply)
        assert "Sources" in rendered and f"Confidence {decision.confidence:.0%}" in rendered
        [buttons] = [b for b in blocks if b.get("block_id") == FEEDBACK_BLOCK]
        assert {e["action_id"] for e in buttons["elements"]} == {HELPFUL_ACTION, NOT_HELPFUL_ACTION}
        assert {e["value"] for e in buttons["elements"]} == {"slack:EvQ1"}


async def test_retries_never_answer_twice(settings: Settings, make_core, fake, store_url: str) -> None:  # type: ignore[no-untyped-def]
    async with slack_stack(slack_settings(settings, fake, database_url=store_url), make_core, fake) as stack:
        event = mention(QUESTION, "1700000002.000100")
        assert (await stack.slack.event(event, event_id="EvR1")).status_code == 200
        for retry in (1, 2):
            assert (await stack.slack.event(event, event_id="EvR1", retry_num=retry)).status_code == 200
        await fake.wait_for("chat.postMessage")
        await stack.settle()
        assert (await stack.slack.event(event, event_id="EvR1", retry_num=3)).status_code == 200
        await stack.settle()
        assert len(fake.of("chat.postMessage")) == 1


async def test_dm_and_thread_follow_up_keep_context(settings: Settings, make_core, fake) -> None:  # type: ignore[no-untyped-def]
    async with slack_stack(slack_settings(settings, fake), make_core, fake) as stack:
        first = {"type": "message", "channel_type": "im", "channel": "D_AGENT", "user": "UAGENT",
                 "text": "My customer's card was stolen, what should they do?", "ts": "1700000003.000100"}  # fmt: skip
        await stack.slack.event(first, event_id="EvT1")
        await fake.wait_for("chat.postMessage")
        follow = {**first, "text": "and can the new one be sent abroad?", "ts": "1700000004.000100",
                  "thread_ts": "1700000003.000100"}  # fmt: skip
        await stack.slack.event(follow, event_id="EvT2")
        posts = await fake.wait_for("chat.postMessage", 2)
        await stack.settle()
        assert [p.params["thread_ts"] for p in posts] == ["1700000003.000100"] * 2
        store = stack.service.context.core.store
        later = await store.get_decision("slack:EvT2")
        assert later is not None and "stolen" in later.text and "abroad" in later.text
        state = await stack.service.context.conversations.get("slack:D_AGENT:1700000003.000100")
        assert state is not None and state.last_contact_id == "slack:EvT2"
        # an un-mentioned reply in a channel thread the bot answered is a follow-up; one in an unknown thread is not
        await stack.slack.event(mention(QUESTION, "1700000005.000100", channel="C_AGENTS"), event_id="EvT3")
        await fake.wait_for("chat.postMessage", 3)
        reply = {
            "type": "message",
            "channel_type": "channel",
            "channel": "C_AGENTS",
            "user": "UAGENT",
            "text": "what if it was only lost?",
            "ts": "1700000006.000100",
            "thread_ts": "1700000005.000100",
        }
        stranger = {**reply, "thread_ts": "1600000000.000100", "ts": "1700000007.000100"}
        await stack.slack.event(reply, event_id="EvT4")
        await stack.slack.event(stranger, event_id="EvT5")
        await fake.wait_for("chat.postMessage", 4)
        await stack.settle()
        assert await stack.service.context.inbox.get("slack:EvT5") is None
        assert len(fake.of("chat.postMessage")) == 4


async def test_question_is_redacted_before_it_is_stored(settings: Settings, make_core, fake) -> None:  # type: ignore[no-untyped-def]
    async with slack_stack(slack_settings(settings, fake), make_core, fake) as stack:
        text = "card 4111 1111 1111 1111 was stolen, customer jane.doe@example.com, what now?"
        await stack.slack.event(mention(text, "1700000008.000100"), event_id="EvP1")
        item = await stack.service.context.inbox.get("slack:EvP1")
        assert item is not None and "4111" not in item.payload and "jane.doe" not in item.payload
        await fake.wait_for("chat.postMessage")
        await stack.settle()
        decision = await stack.service.context.core.store.get_decision("slack:EvP1")
        assert decision is not None and "4111" not in decision.text


async def test_feedback_is_recorded_once_per_agent(settings: Settings, make_core, fake) -> None:  # type: ignore[no-untyped-def]
    async with slack_stack(slack_settings(settings, fake), make_core, fake) as stack:
        await stack.slack.event(mention(QUESTION, "1700000009.000100"), event_id="EvF1")
        [post] = await fake.wait_for("chat.postMessage")
        await stack.settle()
        message = {"ts": "1700000010.000100", "text": post.params["text"], "blocks": blocks_of(post)}
        click = {"user": "UAGENT", "channel": "C_AGENTS", "ts": "1700000010.000100", "message": message}
        assert (await stack.slack.click(HELPFUL_ACTION, "slack:EvF1", **click)).status_code == 200
        [update] = await fake.wait_for("chat.update")
        await stack.settle()
        updated = blocks_of(update)
        assert not [b for b in updated if b.get("block_id") == FEEDBACK_BLOCK] and "Rated *helpful*" in str(updated)
        assert (await stack.slack.click(NOT_HELPFUL_ACTION, "slack:EvF1", **click)).status_code == 200
        [told] = await fake.wait_for("respond")
        assert "already rated" in told.params["text"]
        await stack.slack.click(NOT_HELPFUL_ACTION, "slack:EvF1", **{**click, "user": "UOTHER"})
        await fake.wait_for("chat.update", 2)
        feedback = await stack.service.context.core.store.feedback_for("slack:EvF1")
        assert [(f.helpful, f.source) for f in feedback] == [(True, "agent"), (False, "agent")]


async def test_answer_survives_a_crash_after_the_ack(settings: Settings, make_core, fake, store_url: str) -> None:  # type: ignore[no-untyped-def]
    configured = slack_settings(settings, fake, database_url=store_url)
    async with slack_stack(configured, make_core, fake, start=False) as stack:  # workers never run: "crash"
        assert (await stack.slack.event(mention(QUESTION, "1700000011.000100"), event_id="EvC1")).status_code == 200
    assert fake.of("chat.postMessage") == []
    async with slack_stack(configured, make_core, fake) as restarted:
        [post] = await fake.wait_for("chat.postMessage")
        await restarted.settle()
        assert post.params["thread_ts"] == "1700000011.000100"


async def test_slack_errors_are_retried_until_the_answer_is_out(settings: Settings, make_core, fake) -> None:  # type: ignore[no-untyped-def]
    fake.fail("chat.postMessage", status=429, times=2, retry_after=1)
    fake.fail("chat.postMessage", status=500, times=1)
    async with slack_stack(slack_settings(settings, fake), make_core, fake) as stack:
        await stack.slack.event(mention(QUESTION, "1700000012.000100"), event_id="EvE1")
        await fake.wait_for("chat.postMessage", within=40)
        await stack.settle()
        attempts = fake.of("chat.postMessage", ok_only=False)
        assert [c.status for c in attempts] == [429, 429, 500, 200]
        action = await stack.service.context.outbox.get("slack:answer:EvE1")
        assert action is not None and action.attempts == 3  # the SDK retried the first 429 itself

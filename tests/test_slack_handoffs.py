"""Hand-offs reach their tier's Slack channel (never lost while Slack is down), can be claimed, and alerts land in
the hand-off's thread or the digest channel, charts uploaded with files_upload_v2."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from automations.alerts import Alert
from automations.conversations import AgentEventKind
from automations.models import Action, Channel, Contact
from bot.settings import Settings
from bot.slack.alerts import SlackAlertSink
from bot.slack.blocks import CLAIM_ACTION
from bot.slack.wiring import slack_alert_sink
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.slack_stack import slack_settings, slack_stack

pytestmark = pytest.mark.slow

FRAUD = "Someone I don't know made payments from my account last night and I didn't authorise them"


@pytest.fixture
def fake():  # type: ignore[no-untyped-def]
    with FakeSlackApi() as server:
        yield server


def blocks_of(call) -> list[dict]:  # type: ignore[no-untyped-def]
    raw = call.params["blocks"]
    return json.loads(raw) if isinstance(raw, str) else raw


async def handed_off(stack, contact_id: str = "ic:1", conversation: str = "215"):  # type: ignore[no-untyped-def]
    """What the Intercom adapter does: decide, then queue the hand-off effects in one enqueue."""
    context = stack.service.context
    contact = Contact(id=contact_id, text=FRAUD, customer_id="cust-1", conversation_id=conversation, source="intercom")
    decision = await context.core.pipeline.handle(contact)
    assert decision.action is Action.HANDOFF
    await context.outbox.enqueue(context.effects.handoff_actions(decision))
    return decision


async def test_handoff_reaches_tier_channel_after_outage(settings: Settings, make_core, fake, store_url: str) -> None:  # type: ignore[no-untyped-def]
    fake.fail("chat.postMessage", status=503, times=3)
    async with slack_stack(slack_settings(settings, fake, database_url=store_url), make_core, fake) as stack:
        decision = await handed_off(stack)
        [post] = await fake.wait_for("chat.postMessage", within=30)
        await stack.settle()
        channels = {"t1": "C_T1", "t2": "C_T2", "fraud": "C_FRAUD"}
        assert post.params["channel"] == channels.get(decision.tier, "C_T1")
        rendered = json.dumps(blocks_of(post))
        assert "https://app.intercom.com/a/inbox/abc123/inbox/conversation/215" in rendered
        assert f"<!date^{int(decision.handoff.first_response_due.timestamp())}^" in rendered
        assert CLAIM_ACTION in rendered and "Customer asked" in rendered
        assert [c.status for c in fake.of("chat.postMessage", ok_only=False)] == [503, 503, 503, 200]
        result = json.loads(await stack.service.context.outbox.result("slack:handoff:ic:1") or "{}")
        assert result == {"channel": post.params["channel"], "ts": result["ts"]} and result["ts"]
        # a replay of the same contact plans the same key: nothing new is posted
        await handed_off(stack)
        await stack.settle()
        assert len(fake.of("chat.postMessage")) == 1


async def test_agent_questions_and_answers_have_no_handoff_effect(settings: Settings, make_core, fake) -> None:  # type: ignore[no-untyped-def]
    async with slack_stack(slack_settings(settings, fake), make_core, fake) as stack:
        context = stack.service.context
        decision = await context.core.pipeline.handle(Contact(id="ic:2", text=FRAUD, source="intercom"))
        assert context.effects.handoff_actions(replace(decision, channel=Channel.AGENT)) == []
        assert context.effects.handoff_actions(replace(decision, action=Action.ANSWER, handoff=None)) == []
        assert len(context.effects.handoff_actions(decision)) == 1


async def test_claim_records_the_event_and_updates_the_message(settings: Settings, make_core, fake) -> None:  # type: ignore[no-untyped-def]
    async with slack_stack(slack_settings(settings, fake), make_core, fake) as stack:
        await handed_off(stack)
        await fake.wait_for("chat.postMessage")
        await stack.settle()
        where = json.loads(await stack.service.context.outbox.result("slack:handoff:ic:1") or "{}")
        click = {"channel": where["channel"], "ts": where["ts"]}
        assert (await stack.slack.click(CLAIM_ACTION, "ic:1", user="UAGENT1", **click)).status_code == 200
        [update] = await fake.wait_for("chat.update")
        assert update.params["ts"] == where["ts"] and update.params["channel"] == where["channel"]
        rendered = json.dumps(blocks_of(update))
        assert "Claimed by <@UAGENT1>" in rendered and CLAIM_ACTION not in rendered
        await stack.slack.click(CLAIM_ACTION, "ic:1", user="UAGENT2", **click)
        [told] = await fake.wait_for("respond")
        assert "Already claimed by <@UAGENT1>" in told.params["text"]
        await stack.settle()
        events = await stack.service.context.conversations.agent_events("ic:1")
        assert [(e.kind, e.actor) for e in events] == [(AgentEventKind.CLAIMED, "UAGENT1")]
        assert len(fake.of("chat.update")) == 1


async def test_alerts_thread_under_the_handoff_and_upload_charts(settings: Settings, make_core, fake) -> None:  # type: ignore[no-untyped-def]
    async with slack_stack(slack_settings(settings, fake), make_core, fake) as stack:
        context = stack.service.context
        sink = slack_alert_sink(context.settings, context.outbox, context.clock)
        assert isinstance(sink, SlackAlertSink)
        decision = await handed_off(stack)
        warning = Alert(key="sla:ic:1:first_response:80", kind="sla_warning", title="SLA at 80%: first response",
                        text="First response for *ic:1* is due soon.", tier=decision.tier, thread_of="ic:1",
                        examples=("<!channel> please",))  # fmt: skip
        await sink.send(warning)
        await sink.send(warning)  # idempotent on the key
        posts = await fake.wait_for("chat.postMessage", 2)
        await stack.settle()
        _, alert_post = sorted(posts, key=lambda c: "thread_ts" in c.params)
        where = json.loads(await stack.service.context.outbox.result("slack:handoff:ic:1") or "{}")
        assert alert_post.params["thread_ts"] == where["ts"] and alert_post.params["channel"] == where["channel"]
        assert "&lt;!channel&gt;" in json.dumps(blocks_of(alert_post))  # no broadcast from an example
        png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
        digest = Alert(
            key="digest:daily:2026-01-05", kind="digest_daily", title="Daily digest", text="*All good*", image_png=png
        )
        await sink.send(digest)
        await sink.send(digest)
        [complete] = await fake.wait_for("files.completeUploadExternal")
        await stack.settle()
        [ticket] = fake.of("files.getUploadURLExternal")
        assert int(ticket.params["length"]) == len(png)
        assert fake.uploads[json.loads(complete.params["files"])[0]["id"]] == png
        assert complete.params["channel_id"] == "C_DIGEST" and "Daily digest" in complete.params["initial_comment"]
        assert len(fake.of("upload")) == 1 and len(fake.of("chat.postMessage")) == 2


async def test_alert_waits_for_its_handoff_post(settings: Settings, make_core, fake) -> None:  # type: ignore[no-untyped-def]
    fake.fail("chat.postMessage", status=500, times=2)
    async with slack_stack(slack_settings(settings, fake), make_core, fake) as stack:
        decision = await handed_off(stack, "ic:3")
        context = stack.service.context
        sink = slack_alert_sink(context.settings, context.outbox, context.clock)
        assert sink is not None
        await sink.send(Alert(key="sla:ic:3:resolution:breach", kind="sla_breach", title="SLA breached",
                              text="Resolution overdue.", tier=decision.tier, thread_of="ic:3"))  # fmt: skip
        posts = await fake.wait_for("chat.postMessage", 2, within=40)
        await stack.settle(within=40)
        where = json.loads(await stack.service.context.outbox.result("slack:handoff:ic:3") or "{}")
        assert "thread_ts" not in posts[0].params  # the hand-off went out first (after two 500s)...
        assert posts[1].params["thread_ts"] == where["ts"]  # ...and the alert waited to be threaded under it
        alert = await stack.service.context.outbox.get("slack:alert:sla:ic:3:resolution:breach")
        assert alert is not None and alert.attempts >= 2

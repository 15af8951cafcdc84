"""Conversation capture and the QA job, end to end through the in-memory bot: signed Intercom webhooks are captured
as redacted transcript turns; the scheduler's job scores the closed conversation once and messages the agent's
manager on Slack (the HTTP fake) with the evidence."""

from __future__ import annotations

from datetime import timedelta

from automations.qa import QaScorer, load_scorecard
from automations.qa.alerts import QaAlertSink
from automations.qa.job import QaJob
from automations.qa.records import TurnKind
from bot.slack.alerts import SlackAlertSink
from evals.intercom_payloads import HUMAN_ADMIN_ID, T0, admin_closed, admin_replied, rating_added, user_created
from tests.testbot import TestBot

CARD = "4111 1111 1111 1111"


async def converse(bot: TestBot, conversation: str, reply: str) -> None:
    await bot.intercom(
        user_created(conversation, "Can I speak to a real person about my card?", message_id=f"{conversation}-m1")
    )
    await bot.intercom(admin_replied(conversation, reply, created_at=T0 + 120))
    await bot.intercom(admin_closed(conversation, created_at=T0 + 300))
    await bot.intercom(rating_added(conversation, 2, "slow", created_at=T0 + 400))


async def test_every_turn_is_captured_once_redacted_with_the_agent(testbot: TestBot) -> None:
    await converse(testbot, "2001", f"Sorry! Is your card {CARD}? Please send me the PIN so I can check it.")
    await testbot.intercom(admin_replied("2001", "dup", created_at=T0 + 120))  # another part: a second turn
    turns = await testbot.transcripts.turns("intercom:2001")
    kinds = [(t.author, t.kind) for t in turns]
    assert kinds[:3] == [("customer", TurnKind.MESSAGE), ("agent", TurnKind.MESSAGE), ("agent", TurnKind.MESSAGE)]
    assert ("agent", TurnKind.CLOSE) in kinds and ("customer", TurnKind.RATING) in kinds
    reply = turns[1]
    assert reply.actor_id == HUMAN_ADMIN_ID and reply.actor_name == "Agent"
    assert CARD not in reply.text and "[CARD" in reply.text and "PIN" in reply.text
    before = len(turns)
    handler = testbot.service.processor._handlers["intercom"]
    for item in list(testbot.service.context.inbox.items.values()):  # type: ignore[attr-defined]
        await handler.handle(item)  # a crash replay of every delivery appends nothing
    assert len(await testbot.transcripts.turns("intercom:2001")) == before


async def test_the_job_scores_closed_conversations_once_and_alerts_the_manager(testbot: TestBot) -> None:
    await converse(testbot, "2002", "Sorry about that! Please send me the PIN so I can check it.")
    await converse(testbot, "2003", "Sorry about the wait, I understand. I've passed this to our card team.")
    outbox = testbot.service.context.outbox
    job = QaJob(
        records=testbot.transcripts, scorer=QaScorer(load_scorecard()), store=testbot.store, clock=testbot.clock,
        alerts=QaAlertSink(SlackAlertSink(outbox, testbot.clock)), managers={HUMAN_ADMIN_ID: "UMANAGER"},
    )  # fmt: skip
    testbot.clock.advance(timedelta(minutes=10))  # past the grace period after the close
    assert await job.run_once() == 2
    assert await job.run_once() == 0  # scored once
    scores = {s.conversation_id: s for s in testbot.transcripts.score_rows.values()}
    bad, good = scores["intercom:2002"], scores["intercom:2003"]
    assert bad.result.score == 0 and bad.result.critical_fails == ("asked_for_secret",) and bad.alerted
    assert "PIN" in bad.result.evidence["asked_for_secret"]
    assert good.result.critical_fails == () and good.result.score > 50 and not good.alerted
    assert bad.agent_name == "Agent" and bad.result.agent_id == HUMAN_ADMIN_ID
    while await testbot.service.dispatcher.run_once():
        pass
    posts = [c.params for c in testbot.slack.fake.of("chat.postMessage") if c.params.get("channel") == "UMANAGER"]
    assert len(posts) == 1
    assert "asked_for_secret" in posts[0]["text"] or "asked_for_secret" in str(posts[0].get("blocks"))
    assert "send me the PIN" in str(posts[0].get("blocks"))


async def test_managers_grade_the_calibration_sample_with_buttons(testbot: TestBot) -> None:
    from automations.qa.calibration import agreement, pick_sample
    from bot.slack.qa import GRADE_ACTION, calibration_action

    await converse(testbot, "2004", "Sorry about that! Please send me the PIN so I can check it.")
    testbot.clock.advance(timedelta(minutes=10))
    job = QaJob(
        records=testbot.transcripts, scorer=QaScorer(load_scorecard()), store=testbot.store, clock=testbot.clock
    )
    await job.run_once()
    now = testbot.clock.now()
    scores = await testbot.transcripts.scores(since=now - timedelta(days=7), until=now + timedelta(seconds=1))
    [sample] = pick_sample(scores, size=5, seed=1)
    turns = await testbot.transcripts.turns(sample.conversation_id)
    await testbot.service.context.outbox.enqueue(
        [calibration_action(sample, turns, week="2026-W45", clock=testbot.clock)]
    )
    while await testbot.service.dispatcher.run_once():
        pass
    [post] = [c.params for c in testbot.slack.fake.of("chat.postMessage") if c.params.get("channel") == "C_DIGEST"]
    buttons = [e for b in post["blocks"] if b["type"] == "actions" for e in b["elements"]]
    fail_yes = next(e for e in buttons if e["action_id"] == f"{GRADE_ACTION}:critical_fail:1")
    tone_fail = next(e for e in buttons if e["action_id"] == f"{GRADE_ACTION}:tone:0")
    for button, user in ((fail_yes, "UMANAGER"), (tone_fail, "UMANAGER"), (fail_yes, "UNOTAMANAGER")):
        response = await testbot.slack.click(
            button["action_id"], button["value"], user=user, channel="C_DIGEST", ts="1.1"
        )
        assert response.status_code == 200
    grades = await testbot.transcripts.grades(since=testbot.clock.now() - timedelta(days=1))
    assert [(g.grader, g.criterion, g.value, g.scorer_value) for g in grades] == [
        ("UMANAGER", "critical_fail", 1.0, 1.0),
        ("UMANAGER", "tone", 0.0, 1.0),
    ]  # the non-manager's click is refused
    rates = {a.criterion: (a.graded, a.agreed) for a in agreement(grades)}
    assert rates == {"critical_fail": (1, 1), "tone": (1, 0)}


async def test_the_scheduler_runs_the_scoring_job_on_the_database(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from automations.effects import OutboxKeys
    from automations.fakes import SettableClock
    from automations.qa.records import CapturedTurn
    from bot.composition.jobs import build_scheduler
    from bot.settings import Settings
    from store import SqlEventStore, SqlQaRecords
    from store.queues import SqlOutbox

    settings = Settings(AUTOPILOT_DATA_DIR=tmp_path, SLACK_BOT_TOKEN="xoxb-test", SLACK_DIGEST_CHANNEL="C_DIGEST")  # type: ignore[call-arg]
    clock = SettableClock()
    store = await SqlEventStore.open(settings.db_url)
    try:
        records = SqlQaRecords(store.engine)
        at = clock.now() - timedelta(hours=1)
        for key, author, text, kind in (
            ("p1", "customer", "My card is late", TurnKind.MESSAGE),
            ("p2", "agent", "Sure, just type your card's CVV here and I'll check.", TurnKind.MESSAGE),
            ("c1", "agent", "", TurnKind.CLOSE),
        ):
            await records.add_turn(CapturedTurn(key, "intercom:9", author, at, text, kind, "a-1", "Ana"))
        scheduled = await build_scheduler(settings, clock=clock)
        try:
            jobs = {spec.id: spec for spec in scheduled.specs}
            assert {"qa_score", "qa_calibration"} <= set(jobs)
            assert await jobs["qa_score"].run(clock.now()) == 1
            assert await jobs["qa_score"].run(clock.now()) == 0
        finally:
            await scheduled.close()
        [scored] = await records.scores(since=at, until=clock.now() + timedelta(minutes=1))
        assert scored.result.critical_fails == ("asked_for_secret",) and scored.alerted
        alert = await SqlOutbox(store.engine).get(OutboxKeys.slack_alert("qa_critical:intercom:9"))
        assert alert is not None and "CVV" in alert.payload
    finally:
        await store.close()

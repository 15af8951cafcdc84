"""The whole bot in memory (tests/testbot.py): webhook or mention in, outbox effects out."""

from __future__ import annotations

from automations.llm.summary import GIST_PREFIX
from automations.models import Decision
from evals.intercom_payloads import admin_replied, rating_added, user_created, user_replied
from tests.testbot import TestBot, make_testbot


async def test_a_customer_question_is_answered_in_intercom(testbot: TestBot) -> None:
    response = await testbot.intercom(user_created("c1", "Where is my card? It has not come yet"))
    assert response.status_code == 200
    kinds = [a.kind for a in testbot.effects("intercom")]
    assert "reply" in kinds and not testbot.effects("slack")
    reply = next(p for p in testbot.payloads("intercom") if "body" in p)
    assert "3-5 working days" in reply["body"]


async def test_a_handoff_posts_to_the_tier_channel_and_notes_intercom(testbot: TestBot) -> None:
    await testbot.intercom(user_created("c2", "my card details were compromised, someone has them"))
    assert [a.kind for a in testbot.effects("slack")] == ["post_handoff"]
    assert any(a.kind == "note" for a in testbot.effects("intercom"))


async def test_a_redelivery_never_replies_twice(testbot: TestBot) -> None:
    payload = user_created("c3", "Where is my card?")
    await testbot.intercom(payload)
    first = testbot.effects()
    await testbot.intercom(payload)
    assert testbot.effects() == first


async def test_a_human_takeover_silences_the_bot_and_csat_is_kept_once(testbot: TestBot) -> None:
    await testbot.intercom(user_created("c4", "pending payment at a shop, can someone look"))
    await testbot.intercom(admin_replied("c4", "On it!"))
    before = len(testbot.effects())
    await testbot.intercom(user_replied("c4", "Where is my card?"))
    assert {a.kind for a in testbot.effects()[before:]} == {"tag"}  # no reply, no note, no Slack post
    rating = rating_added("c4", 5)
    await testbot.intercom(rating)
    await testbot.intercom(rating)
    decisions = list(testbot.store.decisions)
    feedback = [f for contact in decisions for f in await testbot.store.feedback_for(contact)]
    assert [f.csat for f in feedback] == [5]


async def test_an_agent_mention_is_answered_in_its_thread(testbot: TestBot) -> None:
    response = await testbot.mention(
        "compromised card: do agents block the card and reissue the card with new details?"
    )
    assert response.status_code == 200
    [answer] = testbot.payloads("slack")
    assert answer["channel"] == "C_AGENTS" and "reissue the card" in answer["text"] + str(answer.get("blocks"))


async def test_the_llm_gist_reaches_the_intercom_note_and_the_slack_post(tmp_path) -> None:  # type: ignore[no-untyped-def]
    class Gist:
        async def summarize(self, decision: Decision) -> str:
            base = decision.handoff.summary if decision.handoff else ""
            return f"{GIST_PREFIX}Customer says a card payment is stuck as pending.\n{base}"

    async with make_testbot(tmp_path, summarizer=Gist()) as bot:
        await bot.intercom(user_created("g1", "a payment is pending at a shop, please look"))
        note = next(
            p for a, p in zip(bot.effects("intercom"), bot.payloads("intercom"), strict=True) if a.kind == "note"
        )
        assert "stuck as pending" in note["body"]
        [post] = bot.payloads("slack")
        assert "stuck as pending" in str(post)
        recorded = next(iter(bot.store.decisions.values()))
        assert recorded.handoff is not None and recorded.handoff.summary.startswith(GIST_PREFIX)

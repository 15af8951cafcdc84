"""No tipping off (issue 17, item 4): no text that reaches an AML or compliance customer may mention suspicion, an
investigation, a SAR or the like, whoever wrote it (an article, an LLM draft, a template). Adversarial drafts are
withheld at the pipeline's one screen and the contact goes to a person with the reason; the outbox checks again."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from automations.deadlines import MemoryRegulatoryClocks
from automations.effects import EffectPlanner
from automations.models import Action, Answer, Channel, Contact, Deadline, Decision, Passage
from automations.nondisclosure import AGENTS_ONLY, REASON, REMINDER, NonDisclosure, agents_only_removed
from automations.taxonomy import Taxonomy
from automations.tipping import tipping_off
from bot.intercom.actions import plan_actions
from bot.playground import decision_view
from evals.intercom_payloads import user_created
from tests.testbot import PASSAGES, TAXONOMY, TestBot, make_testbot

ADVERSARIAL = (
    "Your card is on its way. Our financial crime team is investigating your account, so it may take longer.",
    "We filed a report about your recent transfers with the authorities.",
    "Your activity was flagged as suspicious, which is why the card was delayed.",
    "We have submitted a suspicious activity report (SAR) about your account.",
    "Your account is under investigation for money laundering.",
    "Unfortunately your account has been reported to the authorities for possible fraud.",
)
CLEAN = "Standard card delivery takes 3-5 working days. Track your card in the app under Card and On its way."
SAR_TEXT = "I keep moving cash between accounts, is that suspicious activity for you?"


class Drafts:
    """An LLM answerer that writes whatever the test says (a prompt-injected or careless model)."""

    def __init__(self, draft: str) -> None:
        self.draft = draft

    async def answer(self, question: str, passages: Sequence[Passage], channel: Channel) -> Answer | None:
        return Answer(self.draft, passages[0], method="llm:test") if passages else None


def contact(text: str, customer: str = "cust-1", n: int = 1) -> Contact:
    return Contact(id=f"pg:{customer}:{n}", text=text, customer_id=customer, source="playground",
                   received_at=datetime(2026, 11, 2, 9, 0, tzinfo=UTC))  # fmt: skip


async def watch(bot: TestBot, customer: str = "cust-1") -> None:
    """The customer's own message starts a SAR clock: from now on they are watched."""
    first = await bot.service.context.core.pipeline.handle(contact(SAR_TEXT, customer, n=0))
    assert any(d.internal and d.id == "sar_decision" for d in first.deadlines)
    assert await bot.clocks.watched([customer]) == {customer}


@pytest.mark.parametrize("draft", ADVERSARIAL)
def test_the_detector_finds_every_adversarial_draft(draft: str) -> None:
    assert tipping_off(draft) is not None
    assert tipping_off(CLEAN) is None


@pytest.mark.parametrize("draft", ADVERSARIAL)
async def test_an_llm_draft_that_would_tip_off_goes_to_a_person_with_the_reason(tmp_path: Path, draft: str) -> None:
    async with make_testbot(tmp_path, answerer=Drafts(draft)) as bot:
        await watch(bot)
        decision = await bot.service.context.core.pipeline.handle(contact("Where is my card? It has not come"))
        assert decision.action is Action.HANDOFF and decision.reply is None
        assert decision.reason == REASON and decision.tier == "compliance" and decision.category == "card_arrival"
        assert decision.handoff is not None and REMINDER in decision.handoff.summary
        assert f"“{tipping_off(draft)}”" in decision.handoff.summary  # the agent sees why
        recorded = await bot.store.get_decision(decision.contact_id)
        assert recorded is not None and recorded.action is Action.HANDOFF and recorded.reply is None
        # the customer-facing view shows none of it
        view = decision_view(bot.service.context, decision)
        assert view["reply"] is None and tipping_off(json.dumps(view["handoff"])) is None


async def test_a_help_centre_article_and_a_template_are_screened_too(tmp_path: Path) -> None:
    leaky = Passage(
        "card-delivery", "Card delivery and tracking", "Where is my card",
        "Where is my card? Cards of customers whose activity was flagged as suspicious are held while our "
        "investigation team reviews the account.",
        "https://help.lumen.example/articles/card-delivery", PASSAGES[0].visibility, ("card_arrival",),
    )  # fmt: skip
    template = "Sorry, I can only help with Lumen. Your account is under investigation for money laundering."
    categories = tuple(
        c.model_copy(update={"reply": template}) if c.id == "out_of_scope" else c for c in TAXONOMY.categories
    )
    taxonomy = Taxonomy(version=TAXONOMY.version, tiers=TAXONOMY.tiers, categories=categories)
    async with make_testbot(tmp_path, passages=(leaky,), taxonomy=taxonomy) as bot:
        await watch(bot)
        pipeline = bot.service.context.core.pipeline
        article = await pipeline.handle(contact("where is my card", n=1))
        canned = await pipeline.handle(contact("what is the weather like in Paris", n=2))
        for decision in (article, canned):
            assert decision.action is Action.HANDOFF and decision.reason == REASON, decision
        # the same article and template reach a customer with no SAR clock: nothing to tip off
        other = await pipeline.handle(contact("where is my card", customer="cust-2"))
        assert other.action is Action.ANSWER and other.reply is not None


async def test_a_clean_reply_to_a_watched_customer_is_sent(tmp_path: Path) -> None:
    async with make_testbot(tmp_path, answerer=Drafts(CLEAN)) as bot:
        await watch(bot)
        decision = await bot.service.context.core.pipeline.handle(contact("Where is my card?"))
        assert decision.action is Action.ANSWER and decision.reply == CLEAN


async def test_a_customer_without_a_sar_clock_is_not_screened_on_ordinary_topics(tmp_path: Path) -> None:
    draft = "Keep the receipt; it helps us investigate with the ATM operator."  # a dispute, not tipping off
    async with make_testbot(tmp_path, answerer=Drafts(draft)) as bot:
        decision = await bot.service.context.core.pipeline.handle(contact("Where is my card?", customer="cust-9"))
        assert decision.action is Action.ANSWER and decision.reply == draft


async def test_when_the_watch_cannot_be_read_every_reply_is_screened(tmp_path: Path) -> None:
    class Broken(MemoryRegulatoryClocks):
        async def watched(self, customer_ids: object) -> set[str]:
            raise ConnectionError("database down")

    async with make_testbot(tmp_path, answerer=Drafts(ADVERSARIAL[0])) as bot:
        bot.service.context.core.pipeline._regulatory.clocks = Broken()
        decision = await bot.service.context.core.pipeline.handle(contact("Where is my card?", customer="cust-7"))
        assert decision.action is Action.HANDOFF and decision.reason == REASON


async def test_an_aml_handoff_reminds_the_agent_everywhere_but_the_customer_sees_neither(tmp_path: Path) -> None:
    async with make_testbot(tmp_path, keywords={"launder": ("aml_compliance", 0.95)}) as bot:
        now = int(bot.clock.now().timestamp())
        await bot.intercom(user_created("aml-1", "Is my account blocked because you think I launder money?",
                                        created_at=now))  # fmt: skip
        [decision] = [await bot.store.get_decision(c) for c in bot.store.decisions]
        assert decision is not None and decision.action is Action.HANDOFF and decision.tier == "compliance"
        assert decision.handoff is not None and REMINDER in decision.handoff.summary
        [note] = [p for p in bot.payloads("intercom") if p["kind"] == "note"]
        assert "No tipping off" in note["body"] and "sar_decision" in note["body"]
        assert not [p for p in bot.payloads("intercom") if p["kind"] == "reply"]
        [post] = bot.payloads("slack")
        assert "No tipping off" in json.dumps(post["blocks"]) and "sar_decision" in json.dumps(post["blocks"])
        # the customer's side (the playground's view): no reminder, no internal clock
        view = decision_view(bot.service.context, decision)
        shown = json.dumps(view["handoff"])
        assert "No tipping off" not in shown and "sar_decision" not in shown and AGENTS_ONLY not in shown


async def test_a_watched_customers_ordinary_handoff_reminds_the_agent(tmp_path: Path) -> None:
    async with make_testbot(tmp_path) as bot:
        await watch(bot)
        decision = await bot.service.context.core.pipeline.handle(contact("my card details were compromised", n=3))
        assert decision.action is Action.HANDOFF and decision.handoff is not None
        assert REMINDER in decision.handoff.summary and decision.reason != REASON


def _answer(category: str, reply: str, deadlines: tuple[Deadline, ...] = ()) -> Decision:
    return Decision(
        contact_id="intercom:900", channel=Channel.CUSTOMER, text="…", category=category, group="Compliance & legal",
        confidence=0.9, action=Action.ANSWER, tier="bot", reason="answered",
        decided_at=datetime(2026, 11, 2, 9, 0, tzinfo=UTC), conversation_id="intercom:conv-900", reply=reply,
        deadlines=deadlines,
    )  # fmt: skip


@pytest.mark.parametrize("draft", ADVERSARIAL)
def test_the_outbox_backstop_never_plans_a_reply_that_would_tip_off(draft: str) -> None:
    from bot.settings import Settings

    guard = NonDisclosure(TAXONOMY)
    planner = EffectPlanner(screen=guard.screen)
    settings = Settings(INTERCOM_TEAM_T1="team-t1")  # type: ignore[call-arg]
    covered = _answer("aml_compliance", draft)  # e.g. recorded before the pipeline's screen existed
    intercom = lambda d, *, silenced: plan_actions(d, settings, silenced=silenced)  # noqa: E731
    kinds = [a.kind for a in planner.plan(covered, intercom)]
    assert "reply" not in kinds and kinds == ["tag"]
    sar = Deadline("sar_decision", datetime(2026, 12, 2, tzinfo=UTC), "31 CFR 1020.320", internal=True)
    assert guard.screen(_answer("card_arrival", draft, (sar,))) is not None  # an internal clock covers it too
    assert guard.screen(_answer("card_arrival", draft)) is None  # an ordinary topic is not covered
    clean = _answer("aml_compliance", CLEAN)
    assert "reply" in [a.kind for a in planner.plan(clean, intercom)]


def test_agents_only_lines_are_dropped_from_customer_views() -> None:
    summary = f"Why a person: {AGENTS_ONLY} withheld\n{REMINDER}\nCategory: aml_compliance\n• {AGENTS_ONLY} sar"
    assert agents_only_removed(summary) == "Category: aml_compliance"

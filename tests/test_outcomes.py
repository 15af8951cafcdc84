"""The deflection outcome state machine, driven through the pipeline with a settable clock, and follow-up reading."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from automations.answering import ExtractiveAnswerer
from automations.fakes import FixedClassifier, InMemoryEventStore, InMemoryIndex, RecordingNotifier, SettableClock
from automations.followups import FollowUp, read_follow_up
from automations.models import Action, Contact, OutcomeState, Passage, Visibility
from automations.outcomes import OutcomeTracker
from automations.pipeline import Pipeline, Policy
from automations.redaction import Redactor
from automations.safety import SafetyGate, load_safety_rules
from automations.taxonomy import load_taxonomy

TAXONOMY = load_taxonomy()
SAFETY = SafetyGate(load_safety_rules())
PASSAGES = (
    Passage(
        "card-delivery", "Card delivery and tracking", "Where is my card",
        "Standard card delivery takes 3-5 working days. Track your card in the app.",
        "https://help.lumen.example/articles/card-delivery", Visibility.PUBLIC, ("card_arrival",),
    ),
    Passage(
        "pin", "Your PIN", "How do I change my PIN",
        "You can change your PIN at any ATM or see it in the app under Card and Show PIN.",
        "https://help.lumen.example/articles/pin", Visibility.PUBLIC, ("change_pin",),
    ),
    Passage(
        "internal-card-compromise", "Compromised card details (agent procedure)", "Block the card first",
        "Agents block the card at once and reissue it.",
        "https://wiki.lumen.internal/support/internal-card-compromise", Visibility.INTERNAL, ("compromised_card",),
    ),
)  # fmt: skip
RULES = {"pin": ("change_pin", 0.95), "card": ("card_arrival", 0.95)}
WHERE = "Where is my card?"


@dataclass
class Wired:
    pipeline: Pipeline
    store: InMemoryEventStore
    notifier: RecordingNotifier
    clock: SettableClock

    @property
    def tracker(self) -> OutcomeTracker:
        return self.pipeline.outcomes

    async def say(self, contact_id: str, text: str, customer: str = "u1") -> Action:
        return (await self.pipeline.handle(Contact(contact_id, text, customer_id=customer))).action

    async def state(self, contact_id: str) -> OutcomeState:
        record = await self.store.get_outcome(contact_id)
        assert record is not None
        return record.state


def make_pipeline(rules: dict[str, tuple[str, float]] | None = None) -> Wired:
    store, notifier, clock = InMemoryEventStore(), RecordingNotifier(), SettableClock()
    pipeline = Pipeline(
        taxonomy=TAXONOMY,
        classifier=FixedClassifier(rules or RULES),
        index=InMemoryIndex(PASSAGES),
        answerer=ExtractiveAnswerer(),
        store=store,
        notifier=notifier,
        clock=clock,
        policy=Policy(confidence=0.5, retrieval=0.05),
        safety=SAFETY,
        redactor=Redactor(),
    )
    return Wired(pipeline, store, notifier, clock)


async def test_answer_is_resolved_by_finalize_after_the_window_and_not_before() -> None:
    w = make_pipeline()
    assert await w.say("c1", WHERE) is Action.ANSWER
    start = w.clock.now()
    assert await w.state("c1") is OutcomeState.ANSWERED
    assert await w.tracker.finalize(start + timedelta(hours=23, minutes=59)) == 0
    assert await w.tracker.finalize(start + timedelta(hours=24)) == 0
    assert await w.state("c1") is OutcomeState.ANSWERED
    w.clock.advance(timedelta(hours=24, minutes=1))
    assert await w.tracker.finalize(w.clock.now()) == 1
    assert await w.state("c1") is OutcomeState.RESOLVED
    assert w.store.history[-1][:4] == ("c1", OutcomeState.ANSWERED, OutcomeState.RESOLVED, w.clock.now())
    assert await w.tracker.finalize(w.clock.now() + timedelta(days=1)) == 0  # nothing moves twice


async def test_finalize_leaves_hand_offs_alone() -> None:
    w = make_pipeline()
    assert await w.say("c1", "I have been served a subpoena") is Action.HANDOFF
    assert await w.tracker.finalize(w.clock.now() + timedelta(days=3)) == 0
    assert await w.state("c1") is OutcomeState.HANDED_OFF


async def test_still_needs_help_within_the_window_escalates() -> None:
    w = make_pipeline()
    assert await w.say("c1", WHERE) is Action.ANSWER
    w.clock.advance(timedelta(hours=3))
    decision = await w.pipeline.handle(Contact("c2", "that didn't help", customer_id="u1"))
    assert decision.action is Action.HANDOFF
    assert decision.reason == "customer_still_needs_help"
    assert (decision.category, decision.tier) == ("card_arrival", "t1")
    assert decision.handoff is not None and "c1" in decision.handoff.summary
    assert w.notifier.handoffs == [decision]
    assert await w.state("c1") is OutcomeState.ESCALATED
    assert await w.state("c2") is OutcomeState.HANDED_OFF
    assert ("c1", OutcomeState.ANSWERED, OutcomeState.ESCALATED) in [h[:3] for h in w.store.history]
    assert await w.tracker.finalize(w.clock.now() + timedelta(days=2)) == 0
    assert await w.state("c1") is OutcomeState.ESCALATED


async def test_still_needs_help_after_the_window_is_a_new_contact() -> None:
    w = make_pipeline()
    assert await w.say("c1", WHERE) is Action.ANSWER
    w.clock.advance(timedelta(hours=25))
    decision = await w.pipeline.handle(Contact("c2", "that didn't help", customer_id="u1"))
    assert decision.reason != "customer_still_needs_help"
    assert await w.state("c1") is OutcomeState.ANSWERED


async def test_another_customer_saying_it_did_not_help_changes_nothing() -> None:
    w = make_pipeline()
    assert await w.say("c1", WHERE, customer="u1") is Action.ANSWER
    decision = await w.pipeline.handle(Contact("c2", "that didn't help", customer_id="u2"))
    assert decision.reason != "customer_still_needs_help"
    assert await w.state("c1") is OutcomeState.ANSWERED


async def test_asking_for_a_human_within_the_window_escalates() -> None:
    w = make_pipeline()
    assert await w.say("c1", WHERE) is Action.ANSWER
    w.clock.advance(timedelta(hours=1))
    assert await w.say("c2", "Can I speak to a real person please") is Action.HANDOFF
    assert await w.state("c1") is OutcomeState.ESCALATED


async def test_thanks_resolves_the_answer() -> None:
    w = make_pipeline()
    assert await w.say("c1", WHERE) is Action.ANSWER
    w.clock.advance(timedelta(minutes=10))
    decision = await w.pipeline.handle(Contact("c2", "thanks, that worked", customer_id="u1"))
    assert decision.action is Action.ANSWER
    assert decision.reason == "customer_confirmed"
    assert decision.category == "card_arrival"
    assert await w.state("c1") is OutcomeState.RESOLVED
    assert w.store.history[-1][:4] == ("c1", OutcomeState.ANSWERED, OutcomeState.RESOLVED, w.clock.now())
    assert w.notifier.handoffs == []


async def test_thanks_guessed_as_a_request_for_a_person_still_resolves_the_answer() -> None:
    """A few words of thanks carry no topic; a classifier guess of human_request on them yields to the follow-up
    reading, while a request for a person in so many words still goes to one."""
    w = make_pipeline({**RULES, "thanks": ("human_request", 0.3), "person": ("human_request", 0.3)})
    assert await w.say("c1", WHERE) is Action.ANSWER
    decision = await w.pipeline.handle(Contact("c2", "thanks, that worked", customer_id="u1"))
    assert (decision.action, decision.reason) == (Action.ANSWER, "customer_confirmed")
    assert decision.category == "card_arrival"
    assert await w.state("c1") is OutcomeState.RESOLVED
    assert await w.say("c3", WHERE) is Action.ANSWER
    decision = await w.pipeline.handle(Contact("c4", "thanks, now can I talk to a real person", customer_id="u1"))
    assert (decision.action, decision.category) == (Action.HANDOFF, "human_request")
    elsewhere = await w.pipeline.handle(Contact("c5", "thanks, that worked", customer_id="u2"))  # nothing to follow up
    assert (elsewhere.action, elsewhere.category) == (Action.HANDOFF, "human_request")


@pytest.mark.parametrize("finalized", [False, True])
async def test_returning_on_the_same_category_within_seven_days_reopens(finalized: bool) -> None:
    w = make_pipeline()
    assert await w.say("c1", WHERE) is Action.ANSWER
    w.clock.advance(timedelta(days=2))
    if finalized:
        assert await w.tracker.finalize(w.clock.now()) == 1
    before = await w.state("c1")
    w.clock.advance(timedelta(days=4))
    assert await w.say("c2", "Where is my card now, it is late") is Action.ANSWER
    assert await w.state("c1") is OutcomeState.REOPENED
    assert w.store.history[-1][:4] == ("c1", before, OutcomeState.REOPENED, w.clock.now())


async def test_returning_after_eight_days_does_not_reopen() -> None:
    w = make_pipeline()
    assert await w.say("c1", WHERE) is Action.ANSWER
    w.clock.advance(timedelta(days=1, hours=1))
    assert await w.tracker.finalize(w.clock.now()) == 1
    w.clock.advance(timedelta(days=7))  # eight days after the answer
    assert await w.say("c2", "Where is my card now, it is late") is Action.ANSWER
    assert await w.state("c1") is OutcomeState.RESOLVED
    assert not any(h[0] == "c1" and h[2] is OutcomeState.REOPENED for h in w.store.history)


async def test_returning_on_another_category_does_not_reopen() -> None:
    w = make_pipeline()
    assert await w.say("c1", WHERE) is Action.ANSWER
    w.clock.advance(timedelta(days=2))
    assert await w.say("c2", "How do I change my pin") is Action.ANSWER
    assert await w.state("c1") is OutcomeState.ANSWERED


async def test_history_records_every_transition_in_order() -> None:
    w = make_pipeline()
    await w.say("c1", WHERE)
    w.clock.advance(timedelta(days=1, hours=1))
    await w.tracker.finalize(w.clock.now())
    w.clock.advance(timedelta(days=1))
    await w.say("c2", "Where is my card now, it is late")
    c1 = [(old, new) for cid, old, new, _, _ in w.store.history if cid == "c1"]
    assert c1 == [
        (None, OutcomeState.ANSWERED),
        (OutcomeState.ANSWERED, OutcomeState.RESOLVED),
        (OutcomeState.RESOLVED, OutcomeState.REOPENED),
    ]


@pytest.mark.parametrize(
    "text",
    ["thanks", "Thank you!", "thanks, that worked", "cheers, sorted", "perfect, got it", "that helped, thx", "ok"],
)
def test_read_follow_up_recognises_thanks(text: str) -> None:
    assert read_follow_up(text) is FollowUp.RESOLVED


@pytest.mark.parametrize(
    "text",
    [
        "that didn't help",
        "It did not work",
        "still stuck",
        "I still can't log in",
        "that's not what I asked",
        "no, that is wrong",
        "useless",
        "thanks but it didn't help",
    ],
)
def test_read_follow_up_recognises_unresolved(text: str) -> None:
    assert read_follow_up(text) is FollowUp.UNRESOLVED


@pytest.mark.parametrize(
    "text",
    [
        "Where is my card?",
        "How do I change my PIN",
        "thanks, but how do I change my PIN?",
        "Thanks. Also, my transfer from last week has not arrived and I need to know why it is taking this long",
    ],
)
def test_read_follow_up_treats_questions_as_new(text: str) -> None:
    assert read_follow_up(text) is FollowUp.NEW

"""The grounding check's parts: exact facts, leak n-grams, the circuit breaker, and the checker on real embeddings."""

from __future__ import annotations

import pytest

from automations.llm import BreakerState, CircuitBreaker, GroundingChecker, GroundingPolicy, LeakGuard
from automations.llm.facts import extract_facts, unsupported_facts
from automations.llm.grounding import sentences
from automations.models import Channel
from bot.llm import leak_guard, load_policy
from bot.settings import Settings
from evals.answers import sections

KB = sections(Settings())
PASSAGE = "Transfers take 1-2 working days and cost £0.50, or 1.5% above £1,000. See https://help.lumen.example/a/fees."


def test_facts_are_normalised() -> None:
    facts = extract_facts(PASSAGE)
    assert {"1", "2", "0.5", "1.5", "1000"} <= facts.numbers
    assert {"£0.5", "£1000"} <= facts.amounts
    assert {"1 working day", "2 working day", "1-2 working day", "1.5 %"} <= facts.quantities
    assert facts.links == {"help.lumen.example/a/fees"}


@pytest.mark.parametrize(
    ("draft", "expected"),
    [
        ("Transfers take 1-2 working days and cost £0.50.", []),
        ("It costs £1,000.00 at most, see help.lumen.example/a/fees", []),
        ("Transfers take two working days.", []),
        ("Transfers take 3 working days.", [("number", "3"), ("time_frame", "3 working day")]),
        ("Transfers take 2 business days.", [("time_frame", "2 business day")]),
        ("Transfers take 1 to 2 working days.", []),
        ("Transfers take 2-1 working days.", [("time_frame", "2-1 working day")]),
        ("It costs £5.", [("number", "5"), ("amount", "£5")]),
        ("It costs 1 pound, see www.lumen.com/fees.", [("link", "lumen.com/fees")]),
        ("Transfers are instant and free.", [("claim", "free"), ("claim", "instant")]),
        ("Call us on [PHONE].", [("contact", "[PHONE]")]),
    ],
)
def test_unsupported_facts(draft: str, expected: list[tuple[str, str]]) -> None:
    assert unsupported_facts(draft, [PASSAGE]) == expected


def test_leak_guard_ignores_wording_public_articles_share() -> None:
    guard = LeakGuard.build(
        ["Agents hold outgoing payments in Backoffice first. Open the app and tap Card."],
        ["Open the app and tap Card to see it."],
        hosts=["wiki.lumen.internal"],
    )
    assert (
        guard.internal_overlap("Open the app and tap Card, then we hold outgoing payments in Backoffice.")
        == ["hold outgoing payments in backoffice"]
        or guard.internal_overlap("We hold outgoing payments in Backoffice first.") != []
    )
    assert guard.internal_overlap("Open the app and tap Card.") == []
    assert guard.internal_overlap("See wiki.lumen.internal/x") == ["wiki.lumen.internal"]


def test_sentences_drop_markup() -> None:
    assert sentences("1. Open the app > **Card**.\n- Tap *Freeze*. Done!") == [
        "Open the app > Card.",
        "Tap *Freeze*.",
        "Done!",
    ]


def test_breaker_opens_after_failures_and_half_opens_after_the_pause() -> None:
    now = [0.0]
    breaker = CircuitBreaker(failures=2, reset_after_s=10, clock=lambda: now[0])
    assert breaker.allow()
    breaker.failure()
    assert breaker.state is BreakerState.CLOSED
    breaker.failure()
    assert breaker.state is BreakerState.OPEN and not breaker.allow()
    now[0] = 10.0
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.allow() and not breaker.allow()  # one trial at a time
    breaker.failure()  # the trial failed: open again for a full pause
    assert breaker.state is BreakerState.OPEN
    now[0] = 20.0
    assert breaker.allow()
    breaker.success()
    assert breaker.state is BreakerState.CLOSED and breaker.allow()


async def test_checker_on_real_embeddings(embedder) -> None:  # type: ignore[no-untyped-def]
    checker = GroundingChecker(embedder, load_policy(), guard=leak_guard(Settings()))
    pin = [KB["pin#my-pin-is-blocked-how-do-i-unblock-it"]]
    ok = await checker.check(
        "To unblock your PIN, open the app > Card > Unblock PIN and confirm. "
        "Check the correct PIN under Card > Show PIN before you try again.",
        pin,
    )
    assert ok.grounded and ok.cited == "pin", ok
    invented = await checker.check("A blocked PIN can only be reset by visiting a branch with your passport.", pin)
    assert not invented.grounded and invented.reason == "unsupported_sentence"
    flipped = await checker.check("Your Lumen card PIN is not blocked after 3 wrong PIN attempts.", pin)
    assert not flipped.grounded and flipped.reason == "negation_mismatch"


async def test_internal_passages_support_agent_answers_only(embedder) -> None:  # type: ignore[no-untyped-def]
    checker = GroundingChecker(embedder, GroundingPolicy(), guard=leak_guard(Settings()))
    section = KB["internal-app-fraud#when-must-the-claim-be-decided-and-can-i-stop-the-clock"]
    draft = "Lumen must decide and reimburse within 5 business days of the claim being logged."
    assert (await checker.check(draft, [section], channel=Channel.AGENT)).grounded
    customer = await checker.check(draft, [section], channel=Channel.CUSTOMER)
    assert not customer.grounded  # nothing internal supports, or may appear in, a customer reply

"""Automation candidates on a known history, and KB-gap clusters with the real MiniLM embedder."""

from __future__ import annotations

from datetime import timedelta

import pytest

from automations.reports.insights import automation_candidates, kb_gaps
from automations.reports.metrics import CostModel
from store import SqlEventStore, SqlReportSource
from tests.test_metrics import NOW, PERIOD, T0, build_history, handoff

CRYPTO = [
    "Can I buy bitcoin with my account?",
    "Do you support buying crypto like ethereum?",
    "How do I purchase cryptocurrency in the app?",
    "Is it possible to trade bitcoin through you?",
    "I want to invest in crypto, can I do it here?",
]
PETS = [
    "Do you offer insurance for my dog?",
    "Is there pet insurance with the premium plan?",
    "Can I get my cat insured through your app?",
    "Does my account include cover for vet bills for my pets?",
    "How do I add pet insurance for my puppy?",
]


async def test_automation_candidates_rank_by_savings(store: SqlEventStore) -> None:
    await build_history(store)
    costs = CostModel(cost_per_contact=6.0, cost_per_bot_contact=0.1, aht_seconds=420)
    reports = SqlReportSource(store.engine)
    found = await automation_candidates(
        reports, PERIOD, now=NOW, costs=costs, protected={"suspected_fraud", "legal_request"},
        target_automation=0.75, min_contacts=1,
    )  # fmt: skip
    assert [c.category for c in found] == ["exchange_rate"]  # card_arrival is already at the target
    c = found[0]
    saved = 0.75 * 3 * 30 / 7  # target minus current automation (0), times contacts, per 30 days
    assert c.contacts_saved_per_month == pytest.approx(saved)
    assert c.hours_saved_per_month == pytest.approx(saved * 420 / 3600)
    assert c.cost_saved_per_month == pytest.approx(saved * 5.9)
    unprotected = await automation_candidates(reports, PERIOD, now=NOW, target_automation=0.75, min_contacts=1)
    assert {"suspected_fraud", "legal_request"} <= {c.category for c in unprotected}


async def test_kb_gaps_cluster_handed_off_questions(store: SqlEventStore, embedder) -> None:  # type: ignore[no-untyped-def]
    decisions = []
    for i, text in enumerate(CRYPTO + PETS + ["My lawyer will write to you about the account closure."]):
        reason = "low_retrieval_score" if i % 2 else "answerer_abstained"
        category = "out_of_scope" if i < 10 else "terminate_account"
        d = handoff(f"g{i}", "card_arrival", "t1", T0 + timedelta(hours=i), first=timedelta(hours=1),
                    resolve=timedelta(hours=24), reason=reason)  # fmt: skip
        decisions.append(d.__class__(**{**{f: getattr(d, f) for f in d.__slots__}, "text": text, "category": category}))
    other = handoff("n1", "card_arrival", "t1", T0, first=timedelta(hours=1), resolve=timedelta(hours=24))
    decisions.append(other.__class__(**{**{f: getattr(other, f) for f in other.__slots__},
                                        "text": "Can I buy bitcoin with my card?"}))  # fmt: skip  # not a KB gap
    assert all(await store.record_decisions(decisions))
    clusters = await kb_gaps(SqlReportSource(store.engine), PERIOD, embedder, min_size=3, examples=3)
    assert [c.size for c in clusters] == [5, 5]
    topics = [set(c.examples) for c in clusters]
    assert any(t <= set(CRYPTO) for t in topics) and any(t <= set(PETS) for t in topics)
    assert all(len(c.examples) == 3 and c.top_category == "out_of_scope" for c in clusters)

"""The DataSubjectStore port: one contract for the in-memory fake and the SQL store (SQLite and PostgreSQL), and the
Privacy service's audit events and clock stops.

Both stores are filled through the EventStore port, so they hold the same contacts: a customer to erase (two
conversations, one contact without a customer id in one of them, feedback with a comment), a customer to keep, and a
customer with an open AML case (held, with the rest of its conversation) and an unrelated answered question.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from automations.audit import MemoryAuditTrail
from automations.fakes import InMemoryEventStore, SettableClock
from automations.fakes_privacy import MemoryDataSubjectStore
from automations.models import Action, Decision, Feedback, Handoff, OutcomeState
from automations.ports import EventStore
from automations.privacy import (
    ANON_PREFIX,
    PRIVACY_RULE,
    DataSubjectStore,
    LegalHold,
    MemoryCustomerClocks,
    Privacy,
    RetentionPolicy,
)
from store import SqlEventStore
from store.privacy import SqlDataSubjectStore
from store.schema import METADATA
from tests.test_store import make_decision

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
OLD, RECENT = NOW - timedelta(days=40), NOW - timedelta(days=1)
ERASED = "cust-erase-7f3a"
KEPT = "cust-keep-22"
AML = "cust-aml-5"
ERASED_TEXTS = (
    "my new card never came to 12 Elm Road",
    "still nothing, my PIN letter is also missing",
    "someone took 300 from my account",
)
COMMENT = "the agent called Zed was rude to me"
PRIVACY_REQUEST = PRIVACY_RULE
KEPT_TEXT = "where is my refund for the shoes"
AML_TEXT = "why was my 9000 deposit frozen"


def _handoff(contact_id: str, at: datetime, *, tier: str, text: str, **kw: object) -> Decision:
    handoff = Handoff(tier, "sensitive_category", f"Customer asked: “{text}”", at + timedelta(hours=1),
                      at + timedelta(days=2))  # fmt: skip
    return make_decision(contact_id, at=at, action=Action.HANDOFF, tier=tier, text=text, reply=None, article_id=None,
                         article_url=None, retrieval_score=None, handoff=handoff, **kw)  # fmt: skip


def decisions() -> list[Decision]:
    """The shared population (old ones 40 days before NOW, recent ones the day before)."""
    return [
        make_decision("intercom:9001", at=OLD, customer=ERASED, conversation_id="conv-5501", text=ERASED_TEXTS[0]),
        make_decision(
            "intercom:9002",
            at=OLD + timedelta(minutes=5),
            customer=None,
            conversation_id="conv-5501",
            text=ERASED_TEXTS[1],
        ),
        _handoff(
            "intercom:9003",
            RECENT,
            customer=ERASED,
            conversation_id="conv-5502",
            text=ERASED_TEXTS[2],
            category="card_payment_not_recognised",
            tier="fraud",
        ),
        make_decision("intercom:8001", at=OLD, customer=KEPT, conversation_id="conv-6601", text=KEPT_TEXT),
        _handoff(
            "intercom:7001",
            OLD,
            customer=AML,
            conversation_id="conv-7701",
            text=AML_TEXT,
            category="aml_compliance",
            group="compliance",
            tier="compliance",
        ),
        make_decision(
            "intercom:7003",
            at=OLD + timedelta(minutes=1),
            customer=AML,
            conversation_id="conv-7701",
            text="and when do I get it back",
        ),
        make_decision("intercom:7002", at=OLD, customer=AML, conversation_id="conv-7702", text="card arrival time?"),
    ]


async def seed(events: EventStore) -> None:
    """Record the population, the erased customer's feedback and an outcome change naming another contact."""
    await events.record_decisions(decisions())
    await events.record_feedback(Feedback("intercom:9003", RECENT, helpful=False, csat=1, comment=COMMENT))
    await events.set_outcome("intercom:9001", OutcomeState.RESOLVED, at=OLD + timedelta(hours=1),
                             reason="customer confirmed in intercom:9002")  # fmt: skip


def erased_values() -> list[str]:
    """Everything that identifies the erased customer or is their text."""
    ids = [ERASED, "intercom:9001", "intercom:9002", "intercom:9003", "conv-5501", "conv-5502"]
    return [*ids, *ERASED_TEXTS, COMMENT]


@dataclass
class Harness:
    store: DataSubjectStore
    events: EventStore
    dump: Callable[[], Awaitable[str]]


async def sql_dump(engine: object) -> str:
    """Every string value of every table of ``METADATA`` (an ``AsyncEngine``), one per line."""
    values: list[str] = []
    async with engine.connect() as conn:  # type: ignore[attr-defined]
        for table in METADATA.sorted_tables:
            for row in await conn.execute(select(table)):
                values += [str(v) for v in row if isinstance(v, str | dict | list)]
    return "\n".join(values)


@pytest.fixture(params=["memory", "sql"])
async def harness(request: pytest.FixtureRequest, store_url: str) -> AsyncIterator[Harness]:
    if request.param == "memory":
        memory = InMemoryEventStore()

        async def dump_memory() -> str:
            return repr((memory.decisions, memory.outcomes, memory.history, memory.feedback))

        await seed(memory)
        yield Harness(MemoryDataSubjectStore(memory), memory, dump_memory)
        return
    sql = await SqlEventStore.open(store_url)
    try:
        await seed(sql)
        yield Harness(SqlDataSubjectStore(sql.engine), sql, lambda: sql_dump(sql.engine))
    finally:
        await sql.close()


HOLD = LegalHold()


async def test_export_holds_the_customers_contacts_conversations_and_feedback(harness: Harness) -> None:
    export = await harness.store.export(ERASED, at=NOW, hold=HOLD)
    texts = {row["text"] for row in export.records["contacts"]}
    assert texts == set(ERASED_TEXTS)  # the contact without a customer id comes with its conversation
    assert [row["comment"] for row in export.records["feedback"]] == [COMMENT]
    assert {row["contact_id"] for row in export.records["outcomes"]} == {"intercom:9001", "intercom:9002",
                                                                         "intercom:9003"}  # fmt: skip
    assert KEPT_TEXT not in repr(export.to_json()) and export.held == ()
    assert export.to_json()["customer_id"] == ERASED and export.count >= 9


async def test_export_lists_the_contacts_under_legal_hold(harness: Harness) -> None:
    export = await harness.store.export(AML, at=NOW, hold=HOLD)
    assert [h.contact_id for h in export.held] == ["intercom:7001", "intercom:7003"]
    assert {(h.category, h.tier) for h in export.held} == {("aml_compliance", "compliance")}  # 7003: its case's
    assert len(export.records["contacts"]) == 3  # an export still holds everything


async def test_erase_leaves_no_trace_and_keeps_the_other_customers_and_the_counts(harness: Harness) -> None:
    before = await harness.dump()
    assert all(value in before for value in erased_values())  # the search finds them while they are there
    erasure = await harness.store.erase(ERASED, token=f"{ANON_PREFIX}test", hold=HOLD)
    after = await harness.dump()
    assert [v for v in erased_values() if v in after] == []
    assert KEPT_TEXT in after and "intercom:8001" in after and AML_TEXT in after
    assert erasure.held == () and erasure.rows["contacts"] == 3 and erasure.rows["feedback"] == 1
    assert f"{ANON_PREFIX}test" in after  # the customer's rows remain, under the token
    for contact_id in ("intercom:8001", "intercom:7001"):
        assert await harness.events.get_decision(contact_id) is not None
    assert (
        len(await harness.events.outcomes_for_customer(f"{ANON_PREFIX}test", since=OLD, states=set(OutcomeState))) == 2
    )


async def test_erase_keeps_what_a_legal_hold_covers_until_the_case_is_closed(harness: Harness) -> None:
    erasure = await harness.store.erase(AML, token=f"{ANON_PREFIX}aml", hold=HOLD)
    assert [h.contact_id for h in erasure.held] == ["intercom:7001", "intercom:7003"]
    after = await harness.dump()
    assert AML_TEXT in after and "and when do I get it back" in after and "conv-7701" in after
    assert "card arrival time?" not in after and "intercom:7002" not in after and "conv-7702" not in after
    held = await harness.events.get_decision("intercom:7001")
    assert held is not None and held.customer_id == AML
    await harness.events.set_outcome("intercom:7001", OutcomeState.RESOLVED, at=NOW, reason="case closed")
    again = await harness.store.erase(AML, token=f"{ANON_PREFIX}aml2", hold=HOLD)
    assert again.held == () and again.rows["contacts"] == 2
    assert [v for v in (AML, AML_TEXT, "intercom:7001", "conv-7701") if v in await harness.dump()] == []


async def test_retention_blanks_old_texts_then_identifiers_and_reports_the_held(harness: Harness) -> None:
    texts = await harness.store.purge(RetentionPolicy(text_days=30), now=NOW, hold=HOLD)
    assert (texts.texts, texts.identifiers) == (4, 0)  # 9001, 9002, 8001, 7002; the AML conversation is held
    assert [h.contact_id for h in texts.held] == ["intercom:7001", "intercom:7003"]
    dump = await harness.dump()
    assert [t for t in (*ERASED_TEXTS[:2], KEPT_TEXT, "card arrival time?") if t in dump] == []
    assert ERASED_TEXTS[2] in dump and COMMENT in dump and AML_TEXT in dump  # recent or held
    assert "intercom:9001" in dump  # identifiers are kept by this policy
    again = await harness.store.purge(RetentionPolicy(text_days=30), now=NOW, hold=HOLD)
    assert (again.texts, again.identifiers) == (0, 0) and len(again.held) == 2
    ids = await harness.store.purge(RetentionPolicy(text_days=30, identifier_days=35), now=NOW, hold=HOLD)
    assert ids.identifiers == 4
    dump = await harness.dump()
    assert [v for v in ("intercom:9001", "intercom:9002", "intercom:8001", "intercom:7002", "conv-5501", KEPT,
                        "conv-6601", "conv-7702") if v in dump] == []  # fmt: skip
    assert "intercom:9003" in dump and ERASED in dump  # the recent contact keeps the customer's id
    assert "intercom:7001" in dump and AML in dump


async def test_privacy_service_audits_and_stops_the_privacy_clock(harness: Harness) -> None:
    audit, clocks, clock = MemoryAuditTrail(), MemoryCustomerClocks({(ERASED, PRIVACY_RULE): 1}), SettableClock(NOW)
    privacy = Privacy(harness.store, audit, clock, clocks=clocks, policy=RetentionPolicy(text_days=30))
    export = await privacy.export(ERASED, actor="dpo@example.com")
    erasure = await privacy.erase(ERASED, actor="dpo@example.com")
    assert [(e.kind, e.actor) for e in audit.rows] == [("privacy.exported", "dpo@example.com"),
                                                       ("privacy.erased", "dpo@example.com")]  # fmt: skip
    assert audit.rows[0].subject == ERASED and f"{export.count} records" in audit.rows[0].detail
    assert audit.rows[1].subject == erasure.token and ERASED not in audit.rows[1].detail
    assert erasure.token.startswith(ANON_PREFIX) and "1 clock(s) stopped" in audit.rows[0].detail
    assert [(c, r, at) for c, r, at, _ in clocks.stops] == [(ERASED, PRIVACY_RULE, NOW)] * 2
    purge = await privacy.retain()
    kinds = [e.kind for e in audit.rows[2:]]
    assert kinds == ["retention.purged", "retention.held", "retention.held"] and purge.texts == 2  # 8001, 7002
    await privacy.retain()  # a held contact is reported once, not on every run
    assert [e.kind for e in audit.rows[5:]] == []

"""Export, erasure and retention on SQLite and PostgreSQL with every table filled: agent events, conversation state,
the inbox (in its own SQLite file, as deployed), the outbox, the audit trail and the report facts and rollups.

After an erasure, every string value of every table in ``METADATA`` (tables added later included) of both
databases is searched for the customer's ids and texts; the reports read the same figures before and after, also
after the fact table is rebuilt from scratch.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from automations.audit import AuditEvent
from automations.conversations import AgentEvent, AgentEventKind
from automations.fakes import SettableClock
from automations.models import Deadline
from automations.privacy import ANON_PREFIX, Privacy, RetentionPolicy
from automations.qa import QaResult
from automations.qa.records import CapturedTurn, ManagerGrade, ScoredConversation
from automations.queues import InboxItem, OutboxAction
from automations.reports.periods import Period
from store import SqlAuditTrail, SqlEventStore, SqlRegulatoryClocks, SqlReportSource
from store.conversations import SqlConversations
from store.privacy import SqlDataSubjectStore
from store.qa import SqlQaRecords
from store.queues import SqlInbox, SqlOutbox
from store.schema import METADATA
from tests.test_privacy_contract import (
    AML,
    COMMENT,
    ERASED,
    ERASED_TEXTS,
    KEPT,
    KEPT_TEXT,
    NOW,
    OLD,
    PRIVACY_REQUEST,
    RECENT,
    decisions,
    erased_values,
    seed,
    sql_dump,
)

PERIOD = Period("all", OLD - timedelta(days=1), NOW + timedelta(days=1))


@dataclass
class World:
    store: SqlEventStore
    inbox: AsyncEngine
    privacy: Privacy
    audit: SqlAuditTrail

    async def dump(self) -> str:
        return await sql_dump(self.store.engine) + "\n" + await sql_dump(self.inbox)


async def fill(store: SqlEventStore, inbox: AsyncEngine, audit: SqlAuditTrail) -> None:
    """Every table gets rows naming the erased customer, and rows of others."""
    await seed(store)
    conversations = SqlConversations(store.engine)
    await conversations.set_last_contact("conv-5501", "intercom:9002", at=OLD)
    await conversations.set_last_contact("conv-6601", "intercom:8001", at=OLD)
    for kind, detail in ((AgentEventKind.FIRST_RESPONSE, f"re: “{ERASED_TEXTS[2]}”"), (AgentEventKind.CLOSED, "")):
        await conversations.record_agent_event(AgentEvent("intercom:9003", kind, RECENT, "admin-7", detail))
    await conversations.record_agent_event(AgentEvent("intercom:8001", AgentEventKind.CLOSED, OLD, "admin-7"))
    queue = SqlInbox(inbox)
    for i, (customer, conversation, said, at) in enumerate(
        ((ERASED, "conv-5502", ERASED_TEXTS[2], RECENT), (KEPT, "conv-6601", KEPT_TEXT, OLD),
         (ERASED, "conv-5501", ERASED_TEXTS[0], OLD), (AML, "conv-7701", "frozen", OLD))
    ):  # fmt: skip
        payload = json.dumps({"customer_id": customer, "conversation_id": conversation, "messages": [{"text": said}]})
        await queue.accept(InboxItem(f"notif-{i}", "intercom", "conversation.user.replied", payload, at))
        await queue.complete(f"notif-{i}", now=at)
    outbox = SqlOutbox(store.engine)
    await outbox.enqueue([
        OutboxAction("intercom:intercom:9001:reply", "intercom", "reply",
                     json.dumps({"conversation_id": "conv-5501", "body": "Cards take 5 days to 12 Elm Road"}), OLD),
        OutboxAction("slack:handoff:intercom:9003", "slack", "post_handoff",
                     json.dumps({"contact_id": "intercom:9003", "text": ERASED_TEXTS[2]}), RECENT),
        OutboxAction("intercom:intercom:8001:reply", "intercom", "reply",
                     json.dumps({"conversation_id": "conv-6601", "body": "Refunds take 5 days"}), OLD),
    ])  # fmt: skip
    await outbox.sent("intercom:intercom:9001:reply", now=OLD, result='{"id": "conv-5501"}')
    await outbox.sent("intercom:intercom:8001:reply", now=OLD)
    await audit.append(AuditEvent("privacy.noted", "intercom:9003", RECENT, detail=f"request of {ERASED}"))
    request = next(d for d in decisions() if d.contact_id == "intercom:9003")
    deadline = Deadline(PRIVACY_REQUEST, RECENT + timedelta(days=30), "GDPR Art. 12(3): one month", tier="compliance")
    await SqlRegulatoryClocks(store.engine, audit).start(replace(request, deadlines=(deadline,)))
    await audit.append(AuditEvent("privacy.noted", "intercom:8001", OLD, detail=f"request of {KEPT}"))
    # QA capture: the erased customer's conversation, its score (evidence quotes them) and a manager's grade
    qa = SqlQaRecords(store.engine)
    await qa.add_turn(CapturedTurn("p-1", "conv-5501", "customer", OLD, ERASED_TEXTS[0], contact_id="intercom:9001",
                                   customer_id=ERASED))  # fmt: skip
    await qa.add_turn(
        CapturedTurn("p-2", "conv-5501", "agent", OLD, f"About “{ERASED_TEXTS[0]}”: sorry!", actor_id="a-7")
    )
    await qa.add_turn(CapturedTurn("p-3", "conv-6601", "customer", OLD, KEPT_TEXT, customer_id=KEPT))
    result = QaResult(
        "conv-5501", "a-7", 0, ("asked_for_secret",), {"tone": 1.0}, {"asked_for_secret": ERASED_TEXTS[0]}
    )
    await qa.save_score(ScoredConversation("conv-5501", result, OLD, OLD, "Ana", "card_arrival", "t1", ERASED))
    await qa.add_grade(ManagerGrade("conv-5501", "UMANAGER", "tone", 1.0, OLD, 1.0))
    assert await SqlReportSource(store.engine).refresh() > 0


@pytest.fixture
async def world(store_url: str, tmp_path: Path) -> AsyncIterator[World]:
    store = await SqlEventStore.open(store_url)
    inbox_store = await SqlEventStore.open(f"sqlite:///{tmp_path / 'inbox.db'}") if "sqlite" in store_url else None
    inbox = inbox_store.engine if inbox_store else store.engine
    audit = SqlAuditTrail(store.engine)
    try:
        await fill(store, inbox, audit)
        subjects = SqlDataSubjectStore(store.engine, inbox_engine=inbox)
        policy = RetentionPolicy(text_days=30, identifier_days=35)
        clocks = SqlRegulatoryClocks(store.engine, audit)
        privacy = Privacy(subjects, audit, SettableClock(NOW), clocks=clocks, policy=policy)
        yield World(store, inbox, privacy, audit)
    finally:
        if inbox_store:
            await inbox_store.close()
        await store.close()


async def figures(engine: AsyncEngine, *, rebuild: bool = False) -> tuple[object, ...]:
    """What the reports read (refreshed; with ``rebuild``, the fact table recomputed from the event store)."""
    reports = SqlReportSource(engine)
    if rebuild:
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM report_state"))
    await reports.refresh()
    window = timedelta(hours=24)
    cube = sorted(await reports.outcome_cube(PERIOD, now=NOW, resolve_after=window), key=repr)
    hours = sorted(await reports.hourly_figures(PERIOD, now=NOW, resolve_after=window), key=repr)
    return cube, sorted(await reports.durations(PERIOD), key=repr), hours


async def test_erase_leaves_no_trace_in_any_table_of_either_database(world: World) -> None:
    before = await world.dump()
    assert [v for v in erased_values() if v not in before] == []
    figures_before = await figures(world.store.engine)
    reports = SqlReportSource(world.store.engine)
    assert ERASED_TEXTS[0] in await reports.contact_texts("card_arrival", PERIOD.start, PERIOD.end, limit=50)
    assert all(figures_before)  # contacts, durations and hours to compare
    erasure = await world.privacy.erase(ERASED, actor="dpo")
    after = await world.dump()
    assert [v for v in [*erased_values(), "12 Elm Road"] if v in after] == []
    assert KEPT_TEXT in after and "Refunds take 5 days" in after and f"request of {KEPT}" in after
    assert erasure.rows["inbox"] == 2 and erasure.rows["outbox"] == 2 and erasure.rows["audit_events"] == 3
    tables = {"agent_events", "conversations", "report_facts", "outcome_transitions", "regulatory_clocks",
              "transcript_turns", "qa_scores", "qa_grades"}  # fmt: skip
    assert tables <= set(erasure.rows)
    clocks = await SqlRegulatoryClocks(world.store.engine).find(customer_id=erasure.token)
    assert [(c.rule, c.state.value, c.basis) for c in clocks] == [
        (PRIVACY_REQUEST, "stopped", "GDPR Art. 12(3): one month")
    ]  # stopped before the erasure, then anonymised with the rest
    stopped = await world.audit.events(kind_prefix="clock.stopped")
    assert len(stopped) == 1 and stopped[0].subject == f"{clocks[0].contact_id}:{PRIVACY_REQUEST}"
    assert await figures(world.store.engine) == figures_before
    texts = await reports.contact_texts("card_arrival", PERIOD.start, PERIOD.end, limit=50)
    assert sorted(texts) == sorted(["card arrival time?", KEPT_TEXT, "and when do I get it back"])  # none empty
    assert await figures(world.store.engine, rebuild=True) == figures_before
    erased = await world.audit.events(kind_prefix="privacy.erased")
    assert [e.subject for e in erased] == [erasure.token] and erasure.token.startswith(ANON_PREFIX)


async def test_a_pending_effect_of_an_erased_customer_is_given_up(world: World) -> None:
    await world.privacy.erase(ERASED)
    async with world.store.engine.connect() as conn:
        rows = (await conn.execute(text("SELECT key, status, payload, error FROM outbox ORDER BY created_at"))).all()
    pending = [r for r in rows if r.key.startswith("slack:handoff:")]
    assert len(pending) == 1 and pending[0].status == "dead" and pending[0].payload == "" and pending[0].error
    assert await SqlOutbox(world.store.engine).pending() == 0


async def test_export_is_json_with_every_table_that_names_the_customer(world: World) -> None:
    export = await world.privacy.export(ERASED, actor="dpo")
    doc = json.loads(json.dumps(export.to_json()))
    records = doc["records"]
    for table in ("contacts", "decisions", "outcomes", "outcome_transitions", "feedback", "agent_events",
                  "conversations", "inbox", "outbox", "audit_events", "report_facts"):  # fmt: skip
        assert records.get(table), table
    assert {r["id"] for r in records["inbox"]} == {"notif-0", "notif-2"}
    assert COMMENT in json.dumps(records["feedback"]) and KEPT_TEXT not in json.dumps(doc)
    assert [e.kind for e in await world.audit.events(subject=ERASED)] == ["privacy.exported"]


async def test_retention_purges_old_records_and_queues_and_keeps_the_held(world: World) -> None:
    purge = await world.privacy.retain()
    assert (purge.texts, purge.identifiers) == (4, 4)
    assert [h.contact_id for h in purge.held] == ["intercom:7001", "intercom:7003"]
    dump = await world.dump()
    old = [ERASED_TEXTS[0], ERASED_TEXTS[1], KEPT_TEXT, "intercom:9001", "intercom:8001", "conv-6601", KEPT]
    assert [v for v in old if v in dump] == []
    assert ERASED_TEXTS[2] in dump and COMMENT in dump and "intercom:9003" in dump  # recent
    assert "frozen" in dump and "intercom:7001" in dump  # held, inbox row included
    async with world.inbox.connect() as conn:
        left = set((await conn.execute(select(METADATA.tables["inbox"].c.id))).scalars())
    assert left == {"notif-0", "notif-3"}  # the recent one and the held one
    kinds = [(e.kind, e.subject) for e in await world.audit.events(kind_prefix="retention.")]
    assert kinds == [("retention.purged", "retention"), ("retention.held", "intercom:7001"),
                     ("retention.held", "intercom:7003")]  # fmt: skip

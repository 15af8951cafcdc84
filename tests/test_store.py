"""The SQL event store, against SQLite and a real PostgreSQL (see tests/plugins/postgres.py)."""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import create_async_engine

from automations.models import Action, Channel, Decision, Feedback, Handoff, OutcomeState
from automations.ports import EventStore
from store import SqlEventStore, normalize_url, upgrade
from store.migrate import HEAD_REVISION, _stamp_head, alembic_config, ensure_sqlite_dir
from store.schema import METADATA

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
CORE_TABLES = {"contacts", "decisions", "outcomes", "outcome_transitions", "feedback", "inbox", "outbox"}
TABLES = set(METADATA.tables)
assert CORE_TABLES <= TABLES


def make_decision(
    contact_id: str = "c-1", *, at: datetime = T0, customer: str | None = "cust-1", **kw: object
) -> Decision:
    base: dict[str, object] = {
        "contact_id": contact_id,
        "channel": Channel.CUSTOMER,
        "text": "my card has not arrived, it's been [DURATION]",
        "category": "card_arrival",
        "group": "cards",
        "confidence": 0.91,
        "action": Action.ANSWER,
        "tier": "bot",
        "reason": "confident_answer",
        "decided_at": at,
        "customer_id": customer,
        "conversation_id": f"conv-{contact_id}",
        "source": "intercom",
        "reply": "Cards usually arrive within 5 working days.",
        "article_id": "card-delivery",
        "article_url": "https://help.lumen.example/card-delivery",
        "retrieval_score": 0.77,
        "latency_ms": 42.5,
    }
    base.update(kw)
    return Decision(**base)  # type: ignore[arg-type]


def make_handoff_decision(contact_id: str = "h-1", *, at: datetime = T0, customer: str | None = "cust-1") -> Decision:
    return make_decision(
        contact_id,
        at=at,
        customer=customer,
        category="suspected_fraud",
        group="fraud",
        confidence=0.64,
        action=Action.HANDOFF,
        tier="tier2_fraud",
        reason="sensitive_category",
        reply=None,
        article_id=None,
        article_url=None,
        retrieval_score=None,
        injection=True,
        handoff=Handoff(
            tier="tier2_fraud",
            reason="sensitive_category",
            summary="Customer reports an unknown payment; possible account takeover.",
            first_response_due=at + timedelta(minutes=15),
            resolution_due=at + timedelta(hours=4),
        ),
    )


def _schema_diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True, "compare_server_default": True})
    return list(compare_metadata(context, METADATA))


# --- migrations -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("replay", [True, False], ids=["revisions", "created_at_head"])
async def test_migrations_apply_from_empty_and_are_idempotent(store_url: str, replay: bool) -> None:
    await upgrade(store_url, replay=replay)
    await upgrade(store_url)  # second run is a no-op
    engine = create_async_engine(normalize_url(store_url))
    try:
        async with engine.connect() as conn:
            tables = set(await conn.run_sync(lambda c: sa_inspect(c).get_table_names()))
            version = await conn.scalar(text("SELECT version_num FROM alembic_version"))
    finally:
        await engine.dispose()
    assert tables == TABLES | {"alembic_version"}
    assert version == ScriptDirectory.from_config(alembic_config()).get_current_head() == HEAD_REVISION
    assert version is not None and version >= "0002"


@pytest.mark.parametrize("replay", [True, False], ids=["revisions", "created_at_head"])
async def test_upgraded_schema_equals_metadata(store_url: str, replay: bool) -> None:
    """Every revision replayed and the schema created at head on a new database (what a first start does) agree
    with the tables' metadata, and so with each other."""
    await upgrade(store_url, replay=replay)
    engine = create_async_engine(normalize_url(store_url))
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(_schema_diff)
            indexes = await conn.run_sync(lambda c: {ix["name"] for t in TABLES for ix in sa_inspect(c).get_indexes(t)})
    finally:
        await engine.dispose()
    assert diff == []
    assert {
        "ix_outcomes_customer_id_decided_at",
        "ix_outcomes_state_decided_at",
        "ix_decisions_decided_at",
        "ix_decisions_category",
    } <= indexes


def _version_table(connection: Connection) -> tuple[object, ...]:
    inspector = sa_inspect(connection)
    columns = [(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns("alembic_version")]
    key = inspector.get_pk_constraint("alembic_version")
    rows = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    return columns, key["name"], key["constrained_columns"], rows


async def test_own_stamp_is_what_alembic_writes(store_url: str) -> None:
    """A new database is stamped without importing Alembic; the version table is the one ``alembic stamp head``
    creates, and Alembic reads it as head."""
    ensure_sqlite_dir(store_url)
    engine = create_async_engine(normalize_url(store_url))
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_stamp_head)
            ours = await conn.run_sync(_version_table)
            current = await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())
            await conn.execute(text("DROP TABLE alembic_version"))
            await conn.run_sync(lambda c: command.stamp(alembic_config(c), "head"))
            theirs = await conn.run_sync(_version_table)
    finally:
        await engine.dispose()
    assert ours == theirs
    assert current == HEAD_REVISION


def test_schema_module_declares_every_table() -> None:
    """``store.schema.METADATA`` (what creation, erasure and retention walk) has every table any store module
    declares, although importing ``store`` itself no longer imports them all."""
    script = (
        "import importlib, pkgutil, store, store.schema as s\n"
        "before = set(s.METADATA.tables)\n"
        "for m in pkgutil.walk_packages(store.__path__, 'store.'):\n"
        "    if '.migrations' not in m.name: importlib.import_module(m.name)\n"
        "print(sorted(set(s.METADATA.tables) - before), len(before))"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.split()
    assert out[0] == "[]", out
    assert int(out[-1]) >= len(CORE_TABLES) + 5


def test_acknowledging_imports_no_report_or_qa_modules() -> None:
    """The web front (``bot.web``) leaves the QA, clock, audit and report modules, and Alembic, unimported."""
    script = "import sys, bot.web; print(sorted(m for m in sys.modules if m.startswith(('store.', 'alembic'))))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert not any(name in out for name in ("store.qa", "store.clocks", "store.audit", "store.reports", "alembic")), out


async def test_downgrade_to_base_drops_everything(store_url: str) -> None:
    await upgrade(store_url)
    engine = create_async_engine(normalize_url(store_url))
    try:
        async with engine.begin() as conn:
            await conn.run_sync(lambda c: command.downgrade(alembic_config(c), "base"))
        async with engine.connect() as conn:
            tables = set(await conn.run_sync(lambda c: sa_inspect(c).get_table_names()))
    finally:
        await engine.dispose()
    assert tables <= {"alembic_version"}


async def test_concurrent_opens_migrate_once(store_url: str) -> None:
    opened = await asyncio.gather(*(SqlEventStore.open(store_url) for _ in range(4)), return_exceptions=True)
    stores = [s for s in opened if isinstance(s, SqlEventStore)]
    try:
        assert len(stores) == 4, opened
        assert await stores[0].record_decision(make_decision("x"))
        assert await stores[-1].get_decision("x") == make_decision("x")
    finally:
        for s in stores:
            await s.close()


async def test_sqlite_connections_use_wal_and_foreign_keys(tmp_path: Path) -> None:
    s = await SqlEventStore.open(f"sqlite:///{tmp_path / 'events.db'}")
    try:
        async with s.engine.connect() as conn:
            pragmas = [(await conn.exec_driver_sql(f"PRAGMA {p}")).scalar() for p in ("journal_mode", "foreign_keys")]
            busy = (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar()
    finally:
        await s.close()
    assert pragmas == ["wal", 1]
    assert busy is not None
    assert busy >= 1000


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///var/x.db", "sqlite+aiosqlite:///var/x.db"),
        ("sqlite:////abs/x.db", "sqlite+aiosqlite:////abs/x.db"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("postgresql://u:p%40ss@db:5432/app", "postgresql+psycopg://u:p%40ss@db:5432/app"),
        ("postgres://u@db/app?sslmode=require", "postgresql+psycopg://u@db/app?sslmode=require"),
        ("postgresql+asyncpg://u@db/app", "postgresql+asyncpg://u@db/app"),
        ("postgresql+psycopg://u@db/app", "postgresql+psycopg://u@db/app"),
    ],
)
def test_normalize_url(url: str, expected: str) -> None:
    assert normalize_url(url) == expected


def test_normalize_url_rejects_garbage() -> None:
    with pytest.raises(ValueError, match="not a database URL"):
        normalize_url("events.db")


async def test_open_creates_sqlite_parent_dirs(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "events.db"
    s = await SqlEventStore.open(f"sqlite:///{path}")
    await s.close()
    assert path.is_file()


def test_implements_every_event_store_method() -> None:
    wanted = {name for name, _ in inspect.getmembers(EventStore, inspect.isfunction) if not name.startswith("_")}
    for name in wanted:
        ours = getattr(SqlEventStore, name)
        assert inspect.iscoroutinefunction(ours), name
        assert list(inspect.signature(ours).parameters) == list(
            inspect.signature(getattr(EventStore, name)).parameters
        ), name


# --- decisions --------------------------------------------------------------------------------------------------


async def test_record_decision_is_idempotent(store: SqlEventStore) -> None:
    first = make_decision()
    assert await store.record_decision(first) is True
    changed = dataclasses.replace(first, category="card_delivery_estimate", text="something else")
    assert await store.record_decision(changed) is False
    assert await store.get_decision(first.contact_id) == first
    assert len(await store.outcome_history(first.contact_id)) == 1


async def test_concurrent_duplicates_record_exactly_once(store: SqlEventStore) -> None:
    decision = make_decision("dup")
    results = await asyncio.gather(*(store.record_decision(decision) for _ in range(20)))
    assert results.count(True) == 1
    assert results.count(False) == 19
    assert len(await store.outcome_history("dup")) == 1


async def test_concurrent_distinct_decisions_all_recorded(store: SqlEventStore) -> None:
    decisions = [make_decision(f"c-{i}", at=T0 + timedelta(seconds=i)) for i in range(20)]
    assert all(await asyncio.gather(*(store.record_decision(d) for d in decisions)))
    for d in decisions:
        assert await store.get_decision(d.contact_id) == d


async def test_record_decisions_batch_skips_known_and_repeated_ids(store: SqlEventStore) -> None:
    known = make_decision("known")
    assert await store.record_decision(known) is True
    batch = [make_decision(f"b-{i}", at=T0 + timedelta(seconds=i)) for i in range(5)]
    batch = [batch[0], known, batch[1], batch[1], *batch[2:]]
    assert await store.record_decisions(batch) == [True, False, True, False, True, True, True]
    for d in batch:
        assert await store.get_decision(d.contact_id) == d
        assert len(await store.outcome_history(d.contact_id)) == 1


async def test_concurrent_overlapping_batches_record_each_contact_once(store: SqlEventStore) -> None:
    decisions = [make_decision(f"o-{i}", at=T0 + timedelta(seconds=i)) for i in range(12)]
    results = await asyncio.gather(*(store.record_decisions(decisions[i : i + 6]) for i in range(0, 8, 2)))
    recorded: dict[str, int] = {}
    for start, flags in zip(range(0, 8, 2), results, strict=True):
        for d, flag in zip(decisions[start : start + 6], flags, strict=True):
            recorded[d.contact_id] = recorded.get(d.contact_id, 0) + flag
    assert set(recorded.values()) == {1}
    for d in decisions:
        assert len(await store.outcome_history(d.contact_id)) == 1


async def test_handoff_decision_round_trip(store: SqlEventStore) -> None:
    decision = make_handoff_decision()
    assert await store.record_decision(decision)
    assert await store.get_decision("h-1") == decision
    assert await store.get_decision("missing") is None


async def test_answer_decision_round_trip_without_optional_fields(store: SqlEventStore) -> None:
    decision = make_decision(
        "bare", customer=None, conversation_id=None, reply=None, article_id=None, article_url=None,
        retrieval_score=None, channel=Channel.AGENT, source="cli",
    )  # fmt: skip
    assert await store.record_decision(decision)
    assert await store.get_decision("bare") == decision


async def test_passages_are_not_stored(store: SqlEventStore) -> None:
    from automations.models import Passage, Visibility

    passage = Passage(
        "card-delivery", "Card delivery", "When", "text", "https://x", Visibility.PUBLIC, ("card_arrival",)
    )
    decision = make_decision("with-passages", passages=(passage,))
    assert await store.record_decision(decision)
    got = await store.get_decision("with-passages")
    assert got == dataclasses.replace(decision, passages=())


# --- outcomes ---------------------------------------------------------------------------------------------------


async def test_initial_outcome_and_transition(store: SqlEventStore) -> None:
    await store.record_decision(make_decision("a"))
    await store.record_decision(make_handoff_decision("h"))
    answered, handed = await store.get_outcome("a"), await store.get_outcome("h")
    assert answered is not None
    assert handed is not None
    assert answered.state is OutcomeState.ANSWERED
    assert handed.state is OutcomeState.HANDED_OFF
    assert (answered.customer_id, answered.category, answered.group) == ("cust-1", "card_arrival", "cards")
    assert answered.decided_at == answered.updated_at == T0
    [first] = await store.outcome_history("a")
    assert (first.from_state, first.to_state, first.at) == (None, OutcomeState.ANSWERED, T0)
    assert await store.get_outcome("missing") is None


async def test_set_outcome_updates_state_and_appends_history(store: SqlEventStore) -> None:
    await store.record_decision(make_decision("a"))
    await store.set_outcome("a", OutcomeState.REOPENED, at=T0 + timedelta(hours=1), reason="customer came back")
    await store.set_outcome("a", OutcomeState.ESCALATED, at=T0 + timedelta(hours=2), reason="asked for a human")
    outcome = await store.get_outcome("a")
    assert outcome is not None
    assert outcome.state is OutcomeState.ESCALATED
    assert outcome.updated_at == T0 + timedelta(hours=2)
    assert outcome.decided_at == T0
    assert outcome.reason == "asked for a human"
    history = await store.outcome_history("a")
    assert [(h.from_state, h.to_state) for h in history] == [
        (None, OutcomeState.ANSWERED),
        (OutcomeState.ANSWERED, OutcomeState.REOPENED),
        (OutcomeState.REOPENED, OutcomeState.ESCALATED),
    ]
    assert [h.reason for h in history][1:] == ["customer came back", "asked for a human"]


async def test_set_outcome_unknown_contact_raises(store: SqlEventStore) -> None:
    with pytest.raises(KeyError):
        await store.set_outcome("nope", OutcomeState.RESOLVED, at=T0, reason="x")


async def test_outcomes_for_customer_filters_by_since_and_states(store: SqlEventStore) -> None:
    await store.record_decision(make_decision("old", at=T0 - timedelta(days=10)))
    await store.record_decision(make_decision("mid", at=T0 + timedelta(hours=1)))
    await store.record_decision(make_decision("new", at=T0 + timedelta(hours=2)))
    await store.record_decision(make_handoff_decision("handed", at=T0 + timedelta(hours=3)))
    await store.record_decision(make_decision("other", at=T0 + timedelta(hours=1), customer="cust-2"))
    await store.record_decision(make_decision("anon", at=T0 + timedelta(hours=1), customer=None))
    await store.set_outcome("mid", OutcomeState.RESOLVED, at=T0 + timedelta(hours=5), reason="no reply in 48h")

    answered = await store.outcomes_for_customer("cust-1", since=T0, states={OutcomeState.ANSWERED})
    assert [o.contact_id for o in answered] == ["new"]
    several = await store.outcomes_for_customer(
        "cust-1", since=T0, states=[OutcomeState.ANSWERED, OutcomeState.RESOLVED, OutcomeState.HANDED_OFF]
    )
    assert [o.contact_id for o in several] == ["mid", "new", "handed"]  # oldest first
    inclusive = await store.outcomes_for_customer(
        "cust-1", since=T0 + timedelta(hours=2), states=[OutcomeState.ANSWERED]
    )
    assert [o.contact_id for o in inclusive] == ["new"]  # since is inclusive
    everything = await store.outcomes_for_customer("cust-1", since=T0 - timedelta(days=30), states=list(OutcomeState))
    assert [o.contact_id for o in everything] == ["old", "mid", "new", "handed"]
    assert await store.outcomes_for_customer("cust-1", since=T0, states=()) == []
    assert await store.outcomes_for_customer("cust-9", since=T0, states=list(OutcomeState)) == []


async def test_outcomes_due(store: SqlEventStore) -> None:
    for i in range(4):
        await store.record_decision(make_decision(f"a{i}", at=T0 + timedelta(hours=i)))
    await store.record_decision(make_handoff_decision("h", at=T0))
    await store.set_outcome("a0", OutcomeState.RESOLVED, at=T0 + timedelta(days=2), reason="quiet")

    due = await store.outcomes_due(decided_before=T0 + timedelta(hours=2), state=OutcomeState.ANSWERED)
    assert [o.contact_id for o in due] == ["a1"]  # a0 already resolved, a2 decided exactly at the cut-off
    later = await store.outcomes_due(decided_before=T0 + timedelta(days=1), state=OutcomeState.ANSWERED)
    assert [o.contact_id for o in later] == ["a1", "a2", "a3"]
    handed = await store.outcomes_due(decided_before=T0 + timedelta(days=1), state=OutcomeState.HANDED_OFF)
    assert [o.contact_id for o in handed] == ["h"]


# --- feedback ---------------------------------------------------------------------------------------------------


async def test_feedback(store: SqlEventStore) -> None:
    await store.record_decision(make_decision("a"))
    first = Feedback("a", at=T0 + timedelta(minutes=5), helpful=True)
    second = Feedback("a", at=T0 + timedelta(minutes=9), csat=4, source="survey", comment="quick, thanks")
    await store.record_feedback(first)
    await store.record_feedback(second)
    assert await store.feedback_for("a") == [first, second]
    assert await store.feedback_for("missing") == []


async def test_feedback_validation(store: SqlEventStore) -> None:
    await store.record_decision(make_decision("a"))
    with pytest.raises(ValueError, match="CSAT"):
        await store.record_feedback(Feedback("a", at=T0, csat=6))
    with pytest.raises(KeyError):
        await store.record_feedback(Feedback("unknown", at=T0, helpful=False))
    assert await store.feedback_for("a") == []


# --- time zones -------------------------------------------------------------------------------------------------


async def test_datetimes_come_back_aware_utc(store: SqlEventStore) -> None:
    johannesburg = timezone(timedelta(hours=2))
    local = datetime(2025, 3, 1, 11, 0, tzinfo=johannesburg)  # == T0
    await store.record_decision(make_handoff_decision("tz", at=local))
    await store.set_outcome("tz", OutcomeState.RESOLVED, at=local + timedelta(hours=1), reason="done")
    await store.record_feedback(Feedback("tz", at=local, csat=5))

    decision = await store.get_decision("tz")
    outcome = await store.get_outcome("tz")
    history = await store.outcome_history("tz")
    [feedback] = await store.feedback_for("tz")
    assert decision is not None
    assert outcome is not None
    assert decision.handoff is not None
    stamps = [
        decision.decided_at,
        decision.handoff.first_response_due,
        decision.handoff.resolution_due,
        outcome.decided_at,
        outcome.updated_at,
        feedback.at,
        *(h.at for h in history),
    ]
    assert all(s.tzinfo is UTC for s in stamps), stamps
    assert decision.decided_at == T0
    assert outcome.updated_at == T0 + timedelta(hours=1)
    # Aware datetimes in other zones compare correctly in queries.
    found = await store.outcomes_for_customer("cust-1", since=local, states=[OutcomeState.RESOLVED])
    assert [o.contact_id for o in found] == ["tz"]


async def test_naive_datetimes_are_rejected(store: SqlEventStore) -> None:
    naive = make_decision("naive", at=datetime(2025, 3, 1, 9, 0))
    with pytest.raises((ValueError, StatementError), match="naive datetime"):
        await store.record_decision(naive)
    assert await store.get_decision("naive") is None

"""Contract: the in-memory QA records and the SQL ones (SQLite and PostgreSQL) behave alike."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from automations.qa import QaResult
from automations.qa.records import CapturedTurn, ManagerGrade, MemoryQaRecords, QaRecords, ScoredConversation, TurnKind
from store import SqlEventStore, SqlQaRecords

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["memory", "sql"])
async def records(request: pytest.FixtureRequest, store_url: str) -> AsyncIterator[QaRecords]:
    if request.param == "memory":  # it has no batch write: the flow then captures turn by turn
        yield MemoryQaRecords()
        return
    store = await SqlEventStore.open(store_url)
    try:
        yield SqlQaRecords(store.engine)
    finally:
        await store.close()


def turn(key: str, conv: str, author: str, minutes: int, text: str = "", kind: str = TurnKind.MESSAGE) -> CapturedTurn:
    return CapturedTurn(key, conv, author, T0 + timedelta(minutes=minutes), text, kind, "a-1", "Ana", "c-1", "cust-1")


async def test_turns_are_appended_once_and_read_in_order(records: QaRecords) -> None:
    assert await records.add_turn(turn("p2", "conv-1", "agent", 2, "Sorry about that."))
    assert await records.add_turn(turn("p1", "conv-1", "customer", 1, "My card is late"))
    assert not await records.add_turn(turn("p1", "conv-1", "customer", 1, "My card is late"))  # a redelivery
    assert await records.add_turn(turn("x1", "conv-2", "customer", 0, "other"))
    got = await records.turns("conv-1")
    assert [t.key for t in got] == ["p1", "p2"]
    assert got[1] == turn("p2", "conv-1", "agent", 2, "Sorry about that.")


async def test_a_batch_of_turns_is_appended_like_one_at_a_time(records: QaRecords) -> None:
    """The batch write the conversation flow uses."""
    await records.add_turn(turn("p1", "conv-1", "customer", 1, "My card is late"))
    batch = [turn("p2", "conv-1", "bot", 2, "Here is how"), turn("p1", "conv-1", "customer", 1, "My card is late"),
             turn("p3", "conv-1", "customer", 3, "Thanks"), turn("p2", "conv-1", "bot", 2, "Here is how")]  # fmt: skip
    assert await records.add_turns(batch) == [True, False, True, False]
    assert await records.add_turns([]) == []
    assert [t.key for t in await records.turns("conv-1")] == ["p1", "p2", "p3"]


async def test_closed_conversations_are_scored_once(records: QaRecords) -> None:
    await records.add_turn(turn("c1", "conv-1", "agent", 5, kind=TurnKind.CLOSE))
    await records.add_turn(turn("c2", "conv-2", "agent", 3, kind=TurnKind.CLOSE))
    await records.add_turn(turn("c3", "conv-3", "agent", 90, kind=TurnKind.CLOSE))
    assert await records.to_score(closed_before=T0 + timedelta(minutes=10)) == ["conv-2", "conv-1"]
    result = QaResult(
        "conv-2", "a-1", 0, ("asked_for_secret",), {"tone": 1.0, "sla_met": None}, {"asked_for_secret": "PIN?"}
    )
    scored = ScoredConversation(
        "conv-2", result, T0 + timedelta(minutes=11), T0, "Ana", "change_pin", "t1", "cust-1", "c-1"
    )
    assert await records.save_score(scored)
    assert not await records.save_score(scored)
    assert await records.to_score(closed_before=T0 + timedelta(minutes=10)) == ["conv-1"]
    await records.mark_alerted("conv-2")
    [back] = await records.scores(since=T0, until=T0 + timedelta(hours=1))
    assert back.result == result and back.alerted and back.agent_name == "Ana" and back.category == "change_pin"
    assert await records.scores(since=T0 + timedelta(hours=1), until=T0 + timedelta(hours=2)) == []


async def test_a_later_grade_supersedes_the_earlier_one(records: QaRecords) -> None:
    await records.add_grade(ManagerGrade("conv-1", "U1", "tone", 0.0, T0, 1.0))
    await records.add_grade(ManagerGrade("conv-1", "U1", "tone", 1.0, T0 + timedelta(minutes=1), 1.0))
    await records.add_grade(ManagerGrade("conv-1", "U2", "tone", 0.0, T0 + timedelta(minutes=2), 1.0))
    got = await records.grades(since=T0)
    assert [(g.grader, g.value) for g in got] == [("U1", 1.0), ("U2", 0.0)]

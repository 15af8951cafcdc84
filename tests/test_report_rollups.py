"""The rollups give exactly what the fact table gives, for periods cut anywhere, on SQLite and PostgreSQL.

A generated history (pending answers in the last day, open deadlines, CSAT, repeats) is read two ways: through
:class:`SqlReportSource` (whole days and hours from the rollups, the ends of the period from the facts) and through
a source that reads every figure from the facts alone. Then the event store changes and both are read again after
the incremental refresh.
"""

from __future__ import annotations

from dataclasses import astuple
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from automations.conversations import AgentEvent, AgentEventKind
from automations.models import Feedback, OutcomeState
from automations.reports.metrics import compute_metrics
from automations.reports.periods import Period
from automations.reports.ports import CubeRow, DurationRow, HourFigures
from automations.taxonomy import load_taxonomy
from bot.history import bulk_history, load_texts
from store import SqlEventStore, SqlReportSource
from store.conversations import SqlConversations
from store.reports import queries, series
from store.reports.source import split

NOW = datetime(2026, 5, 20, 15, 37, 12, tzinfo=UTC)
RESOLVE = timedelta(hours=24)


class FactsOnly(SqlReportSource):
    """Every figure straight from ``report_facts``, no rollup."""

    async def outcome_cube(self, period: Period, *, now: datetime, resolve_after: timedelta) -> list[CubeRow]:
        return await self._read(
            lambda c: queries.fact_cube(c, period.start, period.end, now=now, resolve_after=resolve_after)
        )

    async def durations(self, period: Period) -> list[DurationRow]:
        return await self._read(lambda c: queries.fact_durations(c, period.start, period.end))

    async def hourly_figures(self, period: Period, *, now: datetime, resolve_after: timedelta) -> list[HourFigures]:
        return await self._read(
            lambda c: series.hourly_figures(c, period.start, period.end, now=now, resolve_after=resolve_after)
        )


def test_split_cuts_a_period_into_whole_units_and_ends() -> None:
    day = timedelta(days=1)
    start = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)
    edges, whole = split(start, start + 3 * day, day)
    assert whole == (datetime(2026, 5, 2, tzinfo=UTC), datetime(2026, 5, 4, tzinfo=UTC))
    assert edges == [(start, whole[0]), (whole[1], start + 3 * day)]
    midnight = datetime(2026, 5, 1, tzinfo=UTC)
    assert split(midnight, midnight + day, day) == ([], (midnight, midnight + day))
    assert split(start, start + timedelta(hours=5), day) == ([(start, start + timedelta(hours=5))], None)


PERIODS = [
    Period("7d", NOW - timedelta(days=7), NOW),
    Period("30h", NOW - timedelta(hours=30), NOW),
    Period("days", datetime(2026, 5, 10, tzinfo=UTC), datetime(2026, 5, 15, tzinfo=UTC)),
    Period("odd", datetime(2026, 5, 9, 23, 59, 59, tzinfo=UTC), datetime(2026, 5, 18, 0, 0, 1, tzinfo=UTC)),
    Period("past", NOW - timedelta(days=14), NOW - timedelta(days=6, minutes=7)),
]


def close(a: Any, b: Any, where: str) -> None:
    """``a == b``, floats to 1e-9 relative, through dicts and lists."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), where
        for key in a:
            close(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, list | tuple):
        assert isinstance(b, list | tuple) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            close(x, y, f"{where}[{i}]")
    elif isinstance(a, float):
        assert b == pytest.approx(a, rel=1e-9, abs=1e-6), where
    else:
        assert a == b, where


async def same_figures(rolled: SqlReportSource, flat: FactsOnly) -> None:
    for period in PERIODS:
        a = (await compute_metrics(rolled, period, now=NOW, resolve_after=RESOLVE, refresh=False)).to_json()
        b = (await compute_metrics(flat, period, now=NOW, resolve_after=RESOLVE, refresh=False)).to_json()
        close(a, b, period.label)
        hours_a = await rolled.hourly_figures(period, now=NOW, resolve_after=RESOLVE)
        hours_b = await flat.hourly_figures(period, now=NOW, resolve_after=RESOLVE)
        close(sorted(map(astuple, hours_a)), sorted(map(astuple, hours_b)), f"{period.label} hours")


async def test_rollups_equal_the_facts(store: SqlEventStore) -> None:
    await bulk_history(store.engine, load_taxonomy(), load_texts(), now=NOW, days=16, per_day=120, seed=4)
    rolled, flat = SqlReportSource(store.engine), FactsOnly(store.engine)
    await rolled.refresh()
    m = await compute_metrics(rolled, PERIODS[0], now=NOW, refresh=False)
    assert m.overall.pending and m.overall.repeats and m.csat.responses and any(t.first_response_missed for t in m.sla)
    await same_figures(rolled, flat)

    # later changes reach the rollups through the incremental refresh
    d = queries.decisions.c
    async with store.engine.connect() as conn:
        recent = (
            await conn.execute(select(d.contact_id, d.action).where(d.decided_at >= NOW - timedelta(days=3)))
        ).all()
    answers = [cid for cid, action in recent if action == "answer"][:5]
    handoffs = [cid for cid, action in recent if action == "handoff"][:5]
    for cid in answers:
        await store.set_outcome(cid, OutcomeState.ESCALATED, at=NOW - timedelta(minutes=5), reason="test")
        await store.record_feedback(Feedback(cid, at=NOW - timedelta(minutes=4), csat=1))
    conversations = SqlConversations(store.engine)
    for cid in handoffs:
        await conversations.record_agent_event(AgentEvent(cid, AgentEventKind.CLOSED, NOW))
    assert await rolled.refresh() >= len(answers) + len(handoffs)
    await same_figures(rolled, flat)

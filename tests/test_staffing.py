"""Erlang C against published values, and the weekly forecast on a history with known seasonality."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from automations.reports.forecast import forecast_week, plan_shifts, seasonal
from automations.reports.staffing import erlang_c, erlang_c_agents, service_level
from store import SqlEventStore, SqlReportSource
from store.schema import METADATA


def test_erlang_c_closed_forms() -> None:
    # M/M/1: P(wait) = rho; M/M/2 with A = 1: P(wait) = 2·rho²/(1 + rho) = 1/3 with rho = 1/2
    # (Kleinrock, "Queueing Systems, Vol. 1: Theory", Wiley 1975, section 3.5, eq. 3.40).
    assert erlang_c(1, 0.6) == pytest.approx(0.6)
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    assert erlang_c(5, 5.0) == 1.0  # not enough agents: everyone waits


def test_erlang_c_textbook_example() -> None:
    # Call Centre Helper, "Erlang C Formula - Made Simple With an Easy Worked Example"
    # (https://www.callcentrehelper.com/erlang-c-formula-example-121281.htm): 100 calls per 30 minutes, AHT 180 s,
    # 80 % answered within 20 s. Traffic 10 Erlangs; 11 agents: P(wait) 68.21 %, service level 39 %; 14 agents is
    # the first to reach 80 % (88.8 %); with 30 % shrinkage, 20 agents.
    assert erlang_c(11, 10.0) == pytest.approx(0.6821, abs=5e-5)
    assert service_level(11, 10.0, 180, 20) == pytest.approx(0.3896, abs=5e-4)
    assert service_level(13, 10.0, 180, 20) < 0.8 < service_level(14, 10.0, 180, 20)
    result = erlang_c_agents(200, 180, service_level=0.8, answer_within_s=20, shrinkage=0.3)
    assert result.traffic_erlangs == pytest.approx(10.0)
    assert result.base_agents == 14
    assert result.service_level_achieved == pytest.approx(0.8884, abs=5e-4)
    assert result.agents == 20 == math.ceil(14 / 0.7)
    assert result.occupancy == pytest.approx(10 / 14)


def test_erlang_c_agents_edge_cases() -> None:
    assert erlang_c_agents(0, 300).agents == 0
    assert erlang_c_agents(1, 300, shrinkage=0.0).agents == 1
    more = erlang_c_agents(400, 180, service_level=0.8, answer_within_s=20, shrinkage=0.3)
    assert more.base_agents > 14 and more.service_level_achieved >= 0.8
    with pytest.raises(ValueError):
        erlang_c_agents(10, 0)
    with pytest.raises(ValueError):
        erlang_c_agents(10, 300, shrinkage=1.0)


def test_seasonal_weights_recent_weeks_more() -> None:
    assert seasonal([[0.0, 4.0], [3.0, 4.0]]) == [2.0, 4.0]  # weights 1 and 2


NOW = datetime(2026, 6, 7, 12, 0, tzinfo=UTC)  # a Sunday


def _rate(at: datetime) -> int:
    """A known pattern: 6 per hour on weekday working hours (09-17), 1 otherwise; one third handed off."""
    return 6 if at.weekday() < 5 and 9 <= at.hour < 17 else 1


@pytest.fixture
async def reports(store_url: str) -> AsyncIterator[SqlReportSource]:
    store = await SqlEventStore.open(store_url)
    t = METADATA.tables
    rows: dict[str, list[dict[str, object]]] = {"contacts": [], "decisions": []}
    at = (NOW - timedelta(weeks=4)).replace(hour=0)
    serial = 0
    while at < NOW:
        for k in range(_rate(at)):
            serial += 1
            cid, when = f"c{serial}", at + timedelta(minutes=5 * k)
            rows["contacts"].append({"id": cid, "customer_id": None, "conversation_id": None, "channel": "customer",
                                     "source": "intercom", "text": "t", "received_at": when})  # fmt: skip
            action = "handoff" if serial % 3 == 0 else "answer"
            rows["decisions"].append({
                "contact_id": cid, "category": "card_arrival", "group": "Cards", "confidence": 0.9,
                "action": action, "tier": "t1" if action == "handoff" else "bot", "reason": "r", "injection": False,
                "latency_ms": 1.0, "decided_at": when,
            })  # fmt: skip
        at += timedelta(hours=1)
    outcomes = [{"contact_id": d["contact_id"], "customer_id": None, "category": "card_arrival", "group": "Cards",
                 "state": "handed_off" if d["action"] == "handoff" else "resolved", "decided_at": d["decided_at"],
                 "updated_at": d["decided_at"], "reason": ""} for d in rows["decisions"]]  # fmt: skip
    async with store.engine.begin() as conn:
        await conn.execute(insert(t["contacts"]), rows["contacts"])
        await conn.execute(insert(t["decisions"]), rows["decisions"])
        await conn.execute(insert(t["outcomes"]), outcomes)
    try:
        yield SqlReportSource(store.engine)
    finally:
        await store.close()


async def test_forecast_reproduces_weekly_seasonality(reports: SqlReportSource) -> None:
    fc = await forecast_week(reports, NOW, weeks=3)
    assert len(fc.hours) == 168
    assert fc.hours[0].start == datetime(2026, 6, 8, tzinfo=UTC)  # the next midnight, a Monday
    for h in fc.hours:
        assert h.contacts == pytest.approx(_rate(h.start)), h.start
    monday_10 = fc.hours[10]
    assert 1.5 <= monday_10.handoffs <= 2.5  # a third of 6
    plans = plan_shifts(fc, aht_seconds=600, service_level=0.8, answer_within_s=60, shrinkage=0.3)
    assert len(plans) == 21
    by = {(p.day[:3], p.shift): p.agents for p in plans}
    assert by[("Mon", "early")] > by[("Mon", "night")] and by[("Mon", "early")] > by[("Sun", "early")]
    peak = erlang_c_agents(
        math.ceil(max(h.handoffs for h in fc.hours[8:16])), 600, service_level=0.8, answer_within_s=60, shrinkage=0.3
    )
    assert by[("Mon", "early")] == peak.agents

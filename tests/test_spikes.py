"""Spike detection: the pure test, and the job on a five-week series with and without a planted spike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import insert

from automations.alerts import RecordingAlertSink
from automations.reports.jobs import spike_alerts
from automations.reports.spikes import SpikeRule, detect_spike, find_spikes
from store import SqlEventStore, SqlReportSource
from store.schema import METADATA

NOW = datetime(2026, 6, 10, 15, 20, tzinfo=UTC)  # the last full hour is 14:00-15:00
SPIKE_HOUR = datetime(2026, 6, 10, 14, 0, tzinfo=UTC)
CATEGORIES = {"card_arrival": 4.0, "exchange_rate": 2.0, "pending_transfer": 6.0}  # busiest-hour rates


def test_detect_spike_on_counts() -> None:
    assert detect_spike(20, [3, 4, 2, 5]).spike
    assert not detect_spike(6, [3, 4, 2, 5]).spike  # within normal variation
    assert not detect_spike(3, [0, 0, 0, 0]).spike  # too few to matter
    assert detect_spike(8, [0, 0, 0, 0]).spike  # a quiet driver that suddenly gets eight
    assert not detect_spike(0, []).spike
    strict = SpikeRule(min_count=25)
    assert not detect_spike(20, [3, 4, 2, 5], strict).spike
    result = detect_spike(20, [3, 4, 2, 5])
    assert result.baseline == pytest.approx(3.5) and result.p_value < 1e-6


def _profile(at: datetime) -> float:
    return (1.0 if 8 <= at.hour < 20 else 0.2) * (0.6 if at.weekday() >= 5 else 1.0)


async def _insert_series(store: SqlEventStore, *, planted: int, seed: int = 3) -> None:
    rng = np.random.default_rng(seed)
    contacts, decisions = [], []
    at = SPIKE_HOUR - timedelta(weeks=5)
    serial = 0
    while at <= SPIKE_HOUR:
        for category, rate in CATEGORIES.items():
            n = int(rng.poisson(rate * _profile(at)))
            if at == SPIKE_HOUR and category == "exchange_rate":
                n += planted
            for k in range(n):
                serial += 1
                cid, when = f"s{serial}", at + timedelta(seconds=int(rng.integers(0, 3600)))
                text = f"exchange rate looks wrong on my payment {k}" if planted and at == SPIKE_HOUR else "question"
                contacts.append({"id": cid, "customer_id": None, "conversation_id": None, "channel": "customer",
                                 "source": "intercom", "text": text, "received_at": when})  # fmt: skip
                decisions.append({"contact_id": cid, "category": category, "group": "g", "confidence": 0.9,
                                  "action": "answer", "tier": "bot", "reason": "answered", "injection": False,
                                  "latency_ms": 1.0, "decided_at": when})  # fmt: skip
        at += timedelta(hours=1)
    tables = METADATA.tables
    outcomes = [{"contact_id": d["contact_id"], "customer_id": None, "category": d["category"], "group": "g",
                 "state": "resolved", "decided_at": d["decided_at"], "updated_at": d["decided_at"], "reason": ""}
                for d in decisions]  # fmt: skip
    async with store.engine.begin() as conn:
        await conn.execute(insert(tables["contacts"]), contacts)
        await conn.execute(insert(tables["decisions"]), decisions)
        await conn.execute(insert(tables["outcomes"]), outcomes)


async def test_planted_spike_is_found_with_examples(store: SqlEventStore) -> None:
    await _insert_series(store, planted=15)
    reports = SqlReportSource(store.engine)
    spikes = await find_spikes(reports, NOW)
    assert [s.category for s in spikes] == ["exchange_rate"]
    assert spikes[0].hour == SPIKE_HOUR and spikes[0].observed >= 15
    sink = RecordingAlertSink()
    alerts = await spike_alerts(reports, sink, NOW)
    assert [a.key for a in alerts] == ["spike:exchange_rate:2026-06-10T14"]
    assert len(alerts[0].examples) == 3 and all("exchange rate" in e for e in alerts[0].examples)
    await spike_alerts(reports, sink, NOW + timedelta(minutes=10))  # same hour again: no second alert
    assert len(sink.alerts) == 1 and sink.duplicates == 1


async def test_no_spike_without_one(store: SqlEventStore) -> None:
    await _insert_series(store, planted=0)
    reports = SqlReportSource(store.engine)
    assert await find_spikes(reports, NOW) == []
    # and none in any other recent hour of the normal series either
    for hours_back in range(1, 48):
        assert await find_spikes(reports, NOW - timedelta(hours=hours_back)) == [], hours_back

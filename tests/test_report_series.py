"""The daily series and repeat contacts on a hand-built history with known answers, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from automations.reports.daily import daily_series
from automations.reports.metrics import compute_metrics
from automations.reports.narrative import build_report
from automations.reports.periods import Period
from store import SqlEventStore, SqlReportSource
from tests.test_metrics import NOW, PERIOD, T0, answer, build_history

H = timedelta(hours=1)


@pytest.fixture
async def store(store: SqlEventStore) -> SqlEventStore:
    """The metrics history, plus one customer's repeat contacts (see the expected figures)."""
    await build_history(store)
    repeats = [
        answer("r0", "card_arrival", T0 - timedelta(days=6), customer="cus-r"),  # before the period
        answer("r1", "card_arrival", T0 + 10 * H, customer="cus-r"),  # 6 days 10 h after r0: a repeat
        answer("r2", "card_arrival", T0 + 30 * H, customer="cus-r"),  # a repeat of r1
        answer("r3", "exchange_rate", T0 + 31 * H, customer="cus-r"),  # another driver: not a repeat
        answer("s0", "card_arrival", T0 - timedelta(days=8), customer="cus-s"),
        answer("s1", "card_arrival", T0 + 1 * H, customer="cus-s"),  # 8 days later: not a repeat
    ]
    assert all(await store.record_decisions(repeats))
    return store


async def test_repeat_contacts(store: SqlEventStore) -> None:
    m = await compute_metrics(SqlReportSource(store.engine), PERIOD, now=NOW)
    assert m.contacts == 9 + 4
    assert m.overall.repeats == 2
    assert m.repeat_rate == pytest.approx(2 / 13)
    card = next(d for d in m.drivers if d.key == "card_arrival")
    assert (card.repeats, card.contacts) == (2, 4 + 3)
    assert m.to_json()["repeat_contact_rate"] == pytest.approx(2 / 13)


async def test_hourly_figures_add_up_to_the_period(store: SqlEventStore) -> None:
    reports = SqlReportSource(store.engine)
    await reports.refresh()
    m = await compute_metrics(reports, PERIOD, now=NOW, refresh=False)
    hours = await reports.hourly_figures(PERIOD, now=NOW, resolve_after=timedelta(hours=24))
    assert all(PERIOD.start <= h.hour < PERIOD.end for h in hours)

    def total(name: str) -> float:
        return sum(getattr(h, name) for h in hours)

    assert total("contacts") == m.contacts and total("bot_answered") == m.overall.bot_answered
    assert (total("deflected"), total("settled")) == (m.overall.deflected, m.overall.settled)
    assert total("repeats") == 2
    assert (total("csat_responses"), total("csat_total")) == (4, 12)
    assert (total("sla_met"), total("sla_missed")) == (3, 3)
    assert total("frt_count") == 3 and total("frt_total_s") == pytest.approx(600 + 7200 + 3000, abs=1)


async def test_daily_series_in_a_time_zone_across_a_dst_change(store: SqlEventStore) -> None:
    reports = SqlReportSource(store.engine)
    report = await build_report(reports, PERIOD, now=NOW, tz="America/New_York")
    days = report.daily
    # 2 Mar 00:00 UTC is 1 Mar 19:00 in New York; clocks go forward on 8 Mar: 8 local days, the last one partial
    assert [d.day.isoformat() for d in (days[0], days[-1])] == ["2026-03-01", "2026-03-08"]
    assert len(days) == 8 and days[0].hours == 5 and days[-1].hours == 19  # 8 Mar is 23 h long
    assert sum(d.contacts for d in days) == report.current.contacts
    assert [d.provisional for d in days][-3:] == [False, True, True]  # days ending after NOW - 24 h
    doc = report.to_json()
    assert len(doc["daily"]) == 8 and doc["daily"][0]["date"] == "2026-03-01"
    assert {"contacts", "deflection_rate", "automation_rate", "csat", "sla_adherence", "first_response_mean_s",
            "repeat_rate"} <= set(doc["daily"][0])  # fmt: skip


def test_a_30_day_period_has_at_least_28_points() -> None:
    period = Period("30d", NOW - timedelta(days=30), NOW)
    assert len(daily_series([], period)) == 30  # NOW is midnight: 30 whole days
    shifted = Period("30d", period.start + 9 * H, period.end + 9 * H)
    assert len(daily_series([], shifted, "Asia/Tokyo")) == 31

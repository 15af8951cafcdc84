"""Honest findings: significance tests, "new" on tiny bases, intervals on small samples, "nothing moved"."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from automations.reports.markdown import render_markdown
from automations.reports.metrics import Metrics
from automations.reports.narrative import build
from automations.reports.periods import Period
from automations.reports.stats import adjust, count_test, rate_test, wilson
from automations.reports.values import CostSummary, Csat, Durations, Slice
from automations.reports.wording import rate_text, signed_change, volume_text

NOW = datetime(2026, 6, 1, tzinfo=UTC)
PERIOD = Period("7d", NOW - timedelta(days=7), NOW)


def metrics(period: Period, drivers: dict[str, tuple[int, int, int]]) -> Metrics:
    """Metrics with one slice per driver: ``(contacts, deflected, settled)``; every settled answer is a bot answer."""
    slices = tuple(
        Slice(key, "G", contacts, settled, contacts - settled, deflected, settled, 0, 0, 0, 0)
        for key, (contacts, deflected, settled) in drivers.items()
    )
    total = Slice(
        "all", "all", *(sum(getattr(s, f) for s in slices) for f in ("contacts", "bot_answered", "handoffs",
                                                                     "deflected", "settled")), 0, 0, 0, 0,
    )  # fmt: skip
    none = Durations(0, None, None, None)
    return Metrics(period, NOW, total, (), Csat(None, 0, None, None, None), (), none, none, none,
                   CostSummary(0.0, 0, None), slices, (), (), ())  # fmt: skip


def test_wilson_interval_matches_published_values() -> None:
    low, high = wilson(5, 10) or (0.0, 0.0)
    assert (low, high) == (pytest.approx(0.2366, abs=1e-4), pytest.approx(0.7634, abs=1e-4))
    assert wilson(0, 10) == (0.0, pytest.approx(0.2775, abs=1e-4))
    assert wilson(0, 0) is None


def test_count_and_rate_tests() -> None:
    same = count_test(9780, 9945)
    assert same.p_value > 0.05 and same.ratio_low is not None and same.ratio_low < 1 < (same.ratio_high or 0)
    rising = count_test(611, 282)
    assert rising.p_value < 1e-10 and rising.change == pytest.approx(611 / 282 - 1)
    assert count_test(5, 0).ratio is None
    small = rate_test(20, 27, 22, 28)  # Fisher's exact on small cells: nothing to see
    assert small.p_value > 0.5 and small.low is not None and small.low < 0 < (small.high or 0)
    falling = rate_test(150, 390, 310, 391)
    assert falling.p_value < 1e-10 and falling.high is not None and falling.high < -0.3
    q = adjust([0.01, 0.02, 0.03, 0.5])
    assert q[0] == pytest.approx(0.04) and q[3] == pytest.approx(0.5)


def test_wording_never_states_huge_percentages_or_bare_small_rates() -> None:
    assert volume_text(42_009, 10) == "new (10 before)"
    assert volume_text(5, 0) == "new"
    assert volume_text(120, 100) == "+20%"
    assert signed_change(9.5) == "10.5x" and signed_change(2.0) == "+200%"
    assert rate_text(7800, 10_000) == "78.0%"
    assert rate_text(20, 24) == "83% (95% CI 64-93%, n=24)"
    assert rate_text(0, 0) == "n/a"


def test_a_report_on_an_empty_previous_period_compares_nothing() -> None:
    current = metrics(PERIOD, {"card_arrival": (2400, 1500, 1900), "top_up": (800, 500, 600)})
    previous = metrics(PERIOD.previous(), {"card_arrival": (1, 1, 1)})
    report = build(current, previous)
    assert not report.comparable and not report.changes and not report.rising_volume
    text = render_markdown(report)
    assert "too few to compare" in text
    assert not [p for p in re.findall(r"([\d,.]+)%", text) if float(p.replace(",", "")) >= 1000]


def test_nothing_moved_is_said_plainly() -> None:
    drivers = {"card_arrival": (500, 300, 400), "top_up": (300, 150, 200), "exchange": (100, 60, 80)}
    report = build(metrics(PERIOD, drivers), metrics(PERIOD.previous(), drivers))
    assert report.comparable and not report.changes
    assert "Nothing moved: none of the" in render_markdown(report)


def test_findings_are_significant_material_and_ranked_by_impact() -> None:
    before = {"card_arrival": (500, 300, 400), "top_up": (400, 310, 391), "rare": (30, 20, 25), "tiny": (3, 2, 2)}
    after = {"card_arrival": (1100, 700, 900), "top_up": (410, 150, 390), "rare": (40, 15, 28), "tiny": (60, 40, 50)}
    report = build(metrics(PERIOD, after), metrics(PERIOD.previous(), before))
    changes = [(f.metric, f.scope) for f in report.changes]
    assert ("contacts", "card_arrival") in changes and ("deflection", "top_up") in changes
    assert ("deflection", "rare") not in changes  # 20/25 -> 15/28: a big drop on a small base, not significant
    assert [f.scope for f in report.new_drivers] == ["tiny"]  # 3 before: "new", never "+1900%"
    impacts = [f.impact for f in report.changes]
    assert impacts == sorted(impacts, reverse=True)
    assert report.rising_volume[0].scope == "card_arrival" and report.falling_deflection[0].scope == "top_up"
    text = render_markdown(report)
    assert "+120% (95% CI +" in text and "*tiny* (60 contacts, 3 before)" in text
    doc = report.to_json()
    tiny = next(d for d in doc["drivers"] if d["key"] == "tiny")
    assert tiny["volume_change"] is None and tiny["volume_status"] == "new"

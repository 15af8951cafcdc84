"""What changed between two periods, stated only when the data supports it.

Every comparison the report could make is tested (:mod:`automations.reports.stats`): contacts overall and per
driver (counts), and deflection, satisfied CSAT (4-5), SLA adherence and repeat contacts overall plus deflection per
driver (rates). A comparison with a base under :data:`~automations.reports.wording.MIN_BASE` gets no percentage: a
rate is "too few", a count is "new" when it is significantly up (and "too few" otherwise). The p-values of one report
are adjusted together (Benjamini-Hochberg); a change is *significant* when ``q < 0.05``, its interval excludes no
change and it is material (at least 10 % for counts, 2 points for rates); a significant but smaller change is
*small*. Significant findings are ranked by **impact**: the contacts the change affects at the conservative end of
its 95 % interval (extra or fewer contacts; points of a rate x its base), so a large, certain change comes before a
large, uncertain one and before a small, certain one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from automations.reports.metrics import Metrics, Slice
from automations.reports.stats import adjust, count_test, rate_test
from automations.reports.wording import MIN_BASE, pct, signed_change

__all__ = ["ALPHA", "MATERIAL_POINTS", "MATERIAL_VOLUME", "METRIC_NAMES", "Finding", "find_changes"]

ALPHA = 0.05
MATERIAL_VOLUME = 0.10
MATERIAL_POINTS = 0.02
METRIC_NAMES = {
    "contacts": "contacts",
    "deflection": "deflection",
    "csat_satisfied": "satisfied CSAT (4-5)",
    "sla_adherence": "SLA adherence",
    "repeat_rate": "repeat contact rate",
}


@dataclass(frozen=True, slots=True)
class Finding:
    """One comparison of a metric (``contacts`` or a rate) for ``scope`` (``all`` or a driver) with the period before.

    ``change`` is relative for contacts (0.25 = +25 %) and in fraction points for rates; ``low``/``high`` its 95 %
    interval; ``status`` is ``significant``, ``small``, ``not_significant``, ``new`` or ``too_few``.
    """

    metric: str
    scope: str
    group: str
    current: float | None
    previous: float | None
    current_base: int
    previous_base: int
    change: float | None
    low: float | None
    high: float | None
    p_value: float
    q_value: float
    status: str
    impact: float

    @property
    def significant(self) -> bool:
        """Whether the report states this change."""
        return self.status == "significant"

    @property
    def is_count(self) -> bool:
        """Contacts (a count) rather than a rate."""
        return self.metric == "contacts"

    def signed(self) -> str:
        """The change alone: ``+25%``, ``2.5x``, ``-4.1 pts``, or ``new (3 before)``."""
        if self.status == "new":
            return "new" if not self.previous else f"new ({self.previous:,.0f} before)"
        return signed_change(self.change, points=not self.is_count)

    def interval_text(self) -> str:
        """The 95 % interval of the change, e.g. ``95% CI +18% to +32%`` (empty when there is none)."""
        if self.change is None or self.low is None or self.high is None or self.status == "new":
            return ""
        if self.is_count:
            high = "more" if self.high == float("inf") else signed_change(self.high)
            return f"95% CI {signed_change(self.low)} to {high}"
        return f"95% CI {100 * self.low:+.1f} to {100 * self.high:+.1f} pts"

    def change_text(self) -> str:
        """The change with its interval, e.g. ``+25% (95% CI +18% to +32%)``."""
        interval = self.interval_text()
        return f"{self.signed()} ({interval})" if interval else self.signed()

    def describe(self) -> str:
        """One Markdown line for the narrative."""
        name = METRIC_NAMES.get(self.metric, self.metric)
        who = "Overall" if self.scope == "all" else f"*{self.scope}* ({self.group})"
        direction = "up" if (self.change or 0) > 0 else "down"
        if self.is_count:
            now, before = f"{self.current or 0:,.0f}", f"{self.previous or 0:,.0f}"
        else:
            now, before = pct(self.current), pct(self.previous)
        return f"{who}: {name} {direction} to {now} from {before}, {self.change_text()}"

    def to_json(self) -> dict[str, Any]:
        """JSON-safe view (``key`` is the scope; infinite bounds become ``None``)."""

        def finite(x: float | None) -> float | None:
            return None if x is None or x == float("inf") else x

        return {
            "metric": self.metric, "key": self.scope, "group": self.group, "current": self.current,
            "previous": self.previous, "current_base": self.current_base, "previous_base": self.previous_base,
            "change": self.change, "low": finite(self.low), "high": finite(self.high), "p_value": self.p_value,
            "q_value": self.q_value, "status": self.status, "impact": self.impact,
        }  # fmt: skip


def _counts(metric: str, scope: str, group: str, now: int, before: int) -> Finding:
    test = count_test(now, before)
    untested = before < MIN_BASE
    status = ("new" if now >= MIN_BASE else "too_few") if untested else "untested"
    return Finding(metric, scope, group, now, before, now, before, test.change, None if test.ratio_low is None else
                   test.ratio_low - 1, None if test.ratio_high is None else test.ratio_high - 1, test.p_value,
                   test.p_value, status, 0.0)  # fmt: skip


def _rates(metric: str, scope: str, group: str, k: int, n: int, k0: int, n0: int) -> Finding:
    test = rate_test(k, n, k0, n0)
    status = "too_few" if n < MIN_BASE or n0 < MIN_BASE else "untested"
    return Finding(metric, scope, group, test.current, test.previous, n, n0, test.difference, test.low, test.high,
                   test.p_value, test.p_value, status, 0.0)  # fmt: skip


def _impact(f: Finding) -> float:
    if f.change is None or f.low is None or f.high is None or f.low * f.high <= 0:
        return 0.0
    bound = min(abs(f.low), abs(f.high))
    return bound * (f.previous_base if f.is_count else f.current_base)


def _judge(f: Finding, q: float) -> Finding:
    impact = _impact(f)
    material = abs(f.change or 0) >= (MATERIAL_VOLUME if f.is_count else MATERIAL_POINTS)
    status = "not_significant" if q >= ALPHA or impact <= 0 else "significant" if material else "small"
    return replace(f, q_value=q, status=status, impact=impact if status == "significant" else 0.0)


def _sla(m: Metrics) -> tuple[int, int]:
    met = sum(t.first_response_met + t.resolution_met for t in m.sla)
    return met, met + sum(t.first_response_missed + t.resolution_missed for t in m.sla)


def _satisfied(m: Metrics) -> tuple[int, int]:
    share = m.csat.satisfied_share
    return (0 if share is None else round(share * m.csat.responses)), m.csat.responses


def find_changes(current: Metrics, previous: Metrics, extra: Iterable[Finding] = ()) -> tuple[Finding, ...]:
    """Test every comparison of ``current`` against ``previous``; significant findings first, by impact.

    ``extra`` are further untested findings (status ``untested``) to adjust in the same family.
    """
    o, p = current.overall, previous.overall
    found = [_counts("contacts", "all", "all", o.contacts, p.contacts)]
    found.append(_rates("deflection", "all", "all", o.deflected, o.settled, p.deflected, p.settled))
    found.append(_rates("csat_satisfied", "all", "all", *_satisfied(current), *_satisfied(previous)))
    found.append(_rates("sla_adherence", "all", "all", *_sla(current), *_sla(previous)))
    found.append(_rates("repeat_rate", "all", "all", o.repeats, o.contacts, p.repeats, p.contacts))
    before: dict[str, Slice] = {s.key: s for s in previous.drivers}
    now: dict[str, Slice] = {s.key: s for s in current.drivers}
    for key in sorted(set(before) | set(now)):
        a, b = now.get(key), before.get(key)
        either = a or b
        group = either.group if either is not None else ""
        found.append(_counts("contacts", key, group, a.contacts if a else 0, b.contacts if b else 0))
        found.append(_rates("deflection", key, group, a.deflected if a else 0, a.settled if a else 0,
                            b.deflected if b else 0, b.settled if b else 0))  # fmt: skip
    found.extend(extra)
    tested = [i for i, f in enumerate(found) if f.status in ("untested", "new")]
    for i, q in zip(tested, adjust([found[i].p_value for i in tested]), strict=True):
        f = found[i]
        if f.status == "new":  # too few before for a percentage: "new" only when clearly up
            up = q < ALPHA and (f.current or 0) > (f.previous or 0)
            found[i] = replace(f, q_value=q, status="new" if up else "too_few")
        else:
            found[i] = _judge(f, q)
    order = {"significant": 0, "small": 1, "new": 2, "not_significant": 3, "too_few": 4}
    return tuple(sorted(found, key=lambda f: (order[f.status], -f.impact, f.q_value, f.scope, f.metric)))

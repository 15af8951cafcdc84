"""Value types of the reports (slices, SLA, CSAT, costs, durations, open deadlines) and their small arithmetic."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = [
    "DEFAULT_COSTS",
    "FRT_BUCKET_S",
    "KB_GAP_REASONS",
    "RES_BUCKET_S",
    "CostModel",
    "CostSummary",
    "Csat",
    "Durations",
    "SlaDeadline",
    "Slice",
    "TierSla",
    "histogram_durations",
    "ratio",
]

KB_GAP_REASONS = ("low_retrieval_score", "answerer_abstained")
"""Hand-off reasons that mean "the knowledge base had no good answer"."""
FRT_BUCKET_S = 60
"""Width in seconds of the first-response-time histogram buckets."""
RES_BUCKET_S = 900
"""Width in seconds of the resolution-time histogram buckets."""


def ratio(numerator: float, denominator: float) -> float | None:
    """``numerator / denominator``, or ``None`` when there is nothing to divide by."""
    return numerator / denominator if denominator else None


@dataclass(frozen=True, slots=True)
class Durations:
    """Summary of a set of durations in seconds; ``None`` where there was no data (or no histogram)."""

    count: int
    mean_s: float | None
    median_s: float | None
    p90_s: float | None

    def to_json(self) -> dict[str, Any]:
        """JSON-safe summary."""
        return {"count": self.count, "mean_s": self.mean_s, "median_s": self.median_s, "p90_s": self.p90_s}


def _quantile(buckets: list[tuple[int, int]], total: int, q: float, width: int) -> float:
    """Quantile ``q`` from sorted ``(bucket, count)`` pairs, interpolating linearly inside the bucket."""
    target = q * total
    seen = 0
    for bucket, count in buckets:
        if seen + count >= target:
            inside = (target - seen) / count if count else 0.0
            return (bucket + inside) * width
        seen += count
    return (buckets[-1][0] + 1) * width


def histogram_durations(rows: Iterable[tuple[int, int, float]], width: int) -> Durations:
    """Summarise ``(bucket, count, total seconds)`` rows of a fixed-width histogram (several rows may share a
    bucket). The mean is exact; median and p90 are accurate to the bucket width, interpolated within it."""
    merged: dict[int, int] = {}
    total_s, count = 0.0, 0
    for bucket, n, seconds in rows:
        merged[bucket] = merged.get(bucket, 0) + n
        total_s += seconds
        count += n
    if not count:
        return Durations(0, None, None, None)
    buckets = sorted(merged.items())
    return Durations(
        count, total_s / count, _quantile(buckets, count, 0.5, width), _quantile(buckets, count, 0.9, width)
    )


@dataclass(frozen=True, slots=True)
class CostModel:
    """Unit costs (``Settings.cost_per_contact``, ``cost_per_bot_contact``, ``aht_seconds``)."""

    cost_per_contact: float = 6.0
    cost_per_bot_contact: float = 0.10
    aht_seconds: float = 420.0


DEFAULT_COSTS = CostModel()


@dataclass(frozen=True, slots=True)
class Slice:
    """Contact figures of one driver, driver group, tier or channel."""

    key: str
    group: str
    contacts: int
    bot_answered: int
    handoffs: int
    deflected: int
    settled: int
    pending: int
    kb_gap_handoffs: int
    csat_responses: int
    csat_total: int
    repeats: int = 0
    frt_count: int = 0
    frt_total_s: float = 0.0

    @property
    def first_response_mean_s(self) -> float | None:
        """Mean first-response time of the hand-offs that had one."""
        return ratio(self.frt_total_s, self.frt_count)

    @property
    def repeat_rate(self) -> float | None:
        """Repeat contacts (same customer, same driver, within 7 days) / contacts."""
        return ratio(self.repeats, self.contacts)

    @property
    def involvement_rate(self) -> float | None:
        """Share of contacts the bot answered."""
        return ratio(self.bot_answered, self.contacts)

    @property
    def deflection_rate(self) -> float | None:
        """Deflected / settled bot answers."""
        return ratio(self.deflected, self.settled)

    @property
    def automation_rate(self) -> float | None:
        """Involvement x deflection."""
        inv, dfl = self.involvement_rate, self.deflection_rate
        return None if inv is None or dfl is None else inv * dfl

    @property
    def csat(self) -> float | None:
        """Mean CSAT (1..5)."""
        return ratio(self.csat_total, self.csat_responses)

    def to_json(self) -> dict[str, Any]:
        """JSON-safe figures."""
        return {
            "key": self.key,
            "group": self.group,
            "contacts": self.contacts,
            "bot_answered": self.bot_answered,
            "handoffs": self.handoffs,
            "deflected": self.deflected,
            "settled_answers": self.settled,
            "pending_answers": self.pending,
            "kb_gap_handoffs": self.kb_gap_handoffs,
            "involvement_rate": self.involvement_rate,
            "deflection_rate": self.deflection_rate,
            "automation_rate": self.automation_rate,
            "csat": self.csat,
            "csat_responses": self.csat_responses,
            "repeat_contacts": self.repeats,
            "repeat_contact_rate": self.repeat_rate,
            "first_response_mean_s": self.first_response_mean_s,
        }


@dataclass(frozen=True, slots=True)
class TierSla:
    """SLA outcomes of one tier's hand-offs."""

    tier: str
    handoffs: int
    first_response_met: int
    first_response_missed: int
    resolution_met: int
    resolution_missed: int

    @property
    def adherence(self) -> float | None:
        """Met / decided deadlines (both kinds)."""
        met = self.first_response_met + self.resolution_met
        return ratio(met, met + self.first_response_missed + self.resolution_missed)

    def to_json(self) -> dict[str, Any]:
        """JSON-safe figures."""
        return {
            "tier": self.tier,
            "handoffs": self.handoffs,
            "first_response_met": self.first_response_met,
            "first_response_missed": self.first_response_missed,
            "resolution_met": self.resolution_met,
            "resolution_missed": self.resolution_missed,
            "adherence": self.adherence,
        }


@dataclass(frozen=True, slots=True)
class Csat:
    """CSAT summary: mean score, responses, share satisfied (4-5), and by who answered."""

    mean: float | None
    responses: int
    satisfied_share: float | None
    bot_mean: float | None
    human_mean: float | None


@dataclass(frozen=True, slots=True)
class CostSummary:
    """What the period cost and what each resolution cost."""

    total: float
    resolutions: int
    per_resolution: float | None


@dataclass(frozen=True, slots=True)
class SlaDeadline:
    """One open deadline (``kind`` ``first_response`` or ``resolution``) of a hand-off, seen at ``now``; a
    resolution deadline may be a regulatory clock's (``rule``)."""

    contact_id: str
    tier: str
    category: str
    kind: str
    decided_at: datetime
    due: datetime
    now: datetime
    rule: str | None = None
    """The regulatory clock whose due time replaced the resolution SLA because it is tighter (else ``None``)."""

    @property
    def remaining_s(self) -> float:
        """Seconds left (negative once breached)."""
        return (self.due - self.now).total_seconds()

    @property
    def elapsed_fraction(self) -> float:
        """Share of the SLA window used up (1.0 = breached)."""
        window = (self.due - self.decided_at).total_seconds()
        return 1.0 if window <= 0 else (self.now - self.decided_at).total_seconds() / window

    def to_json(self) -> dict[str, Any]:
        """JSON-safe view."""
        return {
            "contact_id": self.contact_id, "tier": self.tier, "category": self.category, "kind": self.kind,
            "decided_at": self.decided_at.isoformat(), "due": self.due.isoformat(),
            "remaining_s": self.remaining_s, "elapsed_fraction": self.elapsed_fraction, "rule": self.rule,
        }  # fmt: skip

"""The metrics engine: every support metric for a period, by driver, driver group, tier and channel.

Definitions (also in the README):

* **contacts** - customer contacts (``contacts.channel = 'customer'``) decided in the period; agents' questions to
  the bot are not contacts.
* **involvement rate** - share of contacts the bot answered (decision ``answer``).
* **deflection rate** - of the bot answers whose outcome is settled, the share where the customer needed no human:
  outcome ``resolved`` (confirmed, or no further message within the resolve window, 24 h) over ``resolved`` +
  ``escalated`` + ``reopened``. Answers younger than the window are *pending* and left out of both.
* **automation rate** - involvement x deflection: the share of all contacts resolved by the bot alone.
* **escalations by tier** - hand-offs to a human, by the tier they went to (a bot answer that did not help shows
  up here as the follow-up contact's hand-off).
* **CSAT** - mean of the 1..5 scores given on the period's contacts; *satisfied* = share of 4s and 5s.
* **SLA adherence** - of the hand-off deadlines (first response and resolution) that are decided (met, or missed:
  late or still open after the deadline), the share met; open deadlines not yet due are pending.
* **first response time** - first ``first_response`` agent event minus ``received_at``, over hand-offs with one.
* **resolution time** - hand-offs: first ``closed`` agent event minus ``received_at``; bot answers that deflected:
  the bot's reply latency (the customer had the answer then and needed nothing more).
* **cost per resolution** - (hand-offs x cost per human contact + bot answers x cost per bot contact) / (deflected
  bot answers + closed hand-offs).
* **repeat contact rate** - contacts whose customer contacted about the same driver in the 7 days before / contacts.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from automations.reports.periods import Period
from automations.reports.ports import CubeRow, ReportSource
from automations.reports.values import (
    DEFAULT_COSTS,
    FRT_BUCKET_S,
    RES_BUCKET_S,
    CostModel,
    CostSummary,
    Csat,
    Durations,
    Slice,
    TierSla,
    histogram_durations,
    ratio,
)

__all__ = [
    "DEFAULT_COSTS",
    "CostModel",
    "CostSummary",
    "Csat",
    "Metrics",
    "Slice",
    "TierSla",
    "compute_metrics",
    "slices",
]

SETTLED = ("resolved", "escalated", "reopened")


@dataclass(frozen=True, slots=True)
class Metrics:
    """Every figure of one period (see the module docstring for definitions)."""

    period: Period
    computed_at: datetime
    overall: Slice
    escalations_by_tier: tuple[tuple[str, int], ...]
    csat: Csat
    sla: tuple[TierSla, ...]
    first_response_time: Durations
    resolution_time: Durations
    bot_resolution_time: Durations
    cost: CostSummary
    drivers: tuple[Slice, ...]
    groups: tuple[Slice, ...]
    tiers: tuple[Slice, ...]
    channels: tuple[Slice, ...]

    @property
    def contacts(self) -> int:
        """Customer contacts in the period."""
        return self.overall.contacts

    @property
    def deflection_rate(self) -> float | None:
        """Deflected / settled bot answers."""
        return self.overall.deflection_rate

    @property
    def automation_rate(self) -> float | None:
        """Involvement x deflection."""
        return self.overall.automation_rate

    @property
    def involvement_rate(self) -> float | None:
        """Share of contacts the bot answered."""
        return self.overall.involvement_rate

    @property
    def repeat_rate(self) -> float | None:
        """Repeat contacts / contacts."""
        return self.overall.repeat_rate

    @property
    def sla_adherence(self) -> float | None:
        """Met / decided SLA deadlines over all tiers."""
        met = sum(t.first_response_met + t.resolution_met for t in self.sla)
        missed = sum(t.first_response_missed + t.resolution_missed for t in self.sla)
        return ratio(met, met + missed)

    def to_json(self) -> dict[str, Any]:
        """The JSON document of ``autopilot report --format json`` (rates 0..1, seconds, ISO-8601 UTC)."""
        o = self.overall
        return {
            "period": {
                "label": self.period.label,
                "start": self.period.start.isoformat(),
                "end": self.period.end.isoformat(),
            },
            "computed_at": self.computed_at.isoformat(),
            "contacts": o.contacts,
            "bot_answered": o.bot_answered,
            "handoffs": o.handoffs,
            "deflected": o.deflected,
            "settled_answers": o.settled,
            "pending_answers": o.pending,
            "involvement_rate": o.involvement_rate,
            "deflection_rate": o.deflection_rate,
            "automation_rate": o.automation_rate,
            "escalations_by_tier": dict(self.escalations_by_tier),
            "csat": self.csat.mean,
            "csat_responses": self.csat.responses,
            "csat_satisfied_share": self.csat.satisfied_share,
            "csat_bot": self.csat.bot_mean,
            "csat_human": self.csat.human_mean,
            "sla_adherence": self.sla_adherence,
            "sla_by_tier": [t.to_json() for t in self.sla],
            "first_response_time": self.first_response_time.to_json(),
            "resolution_time": self.resolution_time.to_json(),
            "bot_resolution_time": self.bot_resolution_time.to_json(),
            "cost_total": round(self.cost.total, 2),
            "resolutions": self.cost.resolutions,
            "cost_per_resolution": self.cost.per_resolution,
            "repeat_contacts": o.repeats,
            "repeat_contact_rate": o.repeat_rate,
            "drivers": [s.to_json() for s in self.drivers],
            "driver_groups": [s.to_json() for s in self.groups],
            "tiers": [s.to_json() for s in self.tiers],
            "channels": [s.to_json() for s in self.channels],
        }


def slices(cube: Iterable[CubeRow], key: Callable[[CubeRow], tuple[str, str]]) -> tuple[Slice, ...]:
    """Aggregate cube rows into one :class:`Slice` per ``key(row) = (key, group)``, most contacts first."""
    acc: dict[str, list[int]] = defaultdict(lambda: [0] * 11)
    frt: dict[str, float] = defaultdict(float)
    group_of: dict[str, str] = {}
    for row in cube:
        k, group = key(row)
        group_of.setdefault(k, group)
        a = acc[k]
        a[0] += row.count
        a[7] += row.csat_responses
        a[8] += row.csat_total
        a[9] += row.repeats
        a[10] += row.frt_count
        frt[k] += row.frt_total_s
        if row.action == "answer":
            a[1] += row.count
            a[3] += row.count if row.state == "resolved" else 0
            a[4] += row.count if row.state in SETTLED else 0
            a[5] += row.count if row.state == "answered" else 0
        else:
            a[2] += row.count
            a[6] += row.count if row.kb_gap else 0
    out = [
        Slice(k, group_of[k], a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], frt[k])
        for k, a in acc.items()
        if a[0]
    ]
    return tuple(sorted(out, key=lambda s: (-s.contacts, s.key)))


def _csat(rows: list[CubeRow]) -> Csat:
    def mean(selected: list[CubeRow]) -> float | None:
        return ratio(sum(r.csat_total for r in selected), sum(r.csat_responses for r in selected))

    responses = sum(r.csat_responses for r in rows)
    return Csat(
        mean=mean(rows),
        responses=responses,
        satisfied_share=ratio(sum(r.csat_satisfied for r in rows), responses),
        bot_mean=mean([r for r in rows if r.action == "answer"]),
        human_mean=mean([r for r in rows if r.action != "answer"]),
    )


def _sla(cube: list[CubeRow]) -> tuple[TierSla, ...]:
    acc: dict[str, list[int]] = defaultdict(lambda: [0] * 5)
    for row in cube:
        if row.action == "answer":
            continue
        a = acc[row.tier]
        a[0] += row.count
        a[1] += row.fr_met
        a[2] += row.fr_missed
        a[3] += row.res_met
        a[4] += row.res_missed
    return tuple(TierSla(tier, *a) for tier, a in sorted(acc.items()) if a[0])


async def compute_metrics(
    source: ReportSource,
    period: Period,
    *,
    now: datetime,
    costs: CostModel = DEFAULT_COSTS,
    resolve_after: timedelta = timedelta(hours=24),
    refresh: bool = True,
) -> Metrics:
    """Compute every metric of ``period`` from ``source``'s two aggregates (the cube and the duration histograms),
    read concurrently.

    ``refresh`` first brings the source's fact table up to date (a short write transaction); pass ``False`` when
    the caller just did, or to read without ever taking a write lock.
    """
    if refresh:
        await source.refresh()
    cube, timing = await asyncio.gather(
        source.outcome_cube(period, now=now, resolve_after=resolve_after), source.durations(period)
    )
    overall = slices(cube, lambda r: ("all", "all"))[:1]
    total = overall[0] if overall else Slice("all", "all", 0, 0, 0, 0, 0, 0, 0, 0, 0)
    escalations: dict[str, int] = defaultdict(int)
    bot_latency_ms, bot_deflected = 0.0, 0
    for row in cube:
        if row.action != "answer":
            escalations[row.tier] += row.count
        elif row.state == "resolved":
            bot_latency_ms += row.latency_ms
            bot_deflected += row.count
    resolution_time = histogram_durations(
        [(r.bucket, r.count, r.total_s) for r in timing if r.metric == "res"], RES_BUCKET_S
    )
    resolutions = total.deflected + resolution_time.count
    cost = total.handoffs * costs.cost_per_contact + total.bot_answered * costs.cost_per_bot_contact
    return Metrics(
        period=period,
        computed_at=now,
        overall=total,
        escalations_by_tier=tuple(
            sorted(((t, n) for t, n in escalations.items() if n), key=lambda kv: (-kv[1], kv[0]))
        ),
        csat=_csat(cube),
        sla=_sla(cube),
        first_response_time=histogram_durations(
            [(r.bucket, r.count, r.total_s) for r in timing if r.metric == "frt"], FRT_BUCKET_S
        ),
        resolution_time=resolution_time,
        bot_resolution_time=Durations(bot_deflected, ratio(bot_latency_ms / 1000.0, bot_deflected), None, None),
        cost=CostSummary(cost, resolutions, ratio(cost, resolutions)),
        drivers=slices(cube, lambda r: (r.category, r.group)),
        groups=slices(cube, lambda r: (r.group, r.group)),
        tiers=slices(cube, lambda r: (r.tier, r.tier)),
        channels=slices(cube, lambda r: (r.source, r.source)),
    )

"""Capacity planning: Erlang C staffing for one interval, and a week's forecast turned into shifts.

Erlang C (M/M/N queue, no abandonment): with traffic ``A = arrivals per second x AHT`` Erlangs and ``N > A``
agents, the probability that a contact waits is ``C(N, A) = N·B / (N - A(1 - B))`` where ``B`` is Erlang B (computed
with the stable recursion ``B(n) = A·B(n-1) / (n + A·B(n-1))``); the service level, i.e. the share answered within
``t`` seconds, is ``1 - C·exp(-(N - A)·t / AHT)``. Rostered agents = the least such ``N`` meeting the target,
divided by ``1 - shrinkage`` (breaks, training, absence) and rounded up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

__all__ = ["StaffingResult", "erlang_b", "erlang_c", "erlang_c_agents", "service_level"]


def erlang_b(agents: int, traffic: float) -> float:
    """Erlang B blocking probability for ``agents`` servers offered ``traffic`` Erlangs."""
    b = 1.0
    for n in range(1, agents + 1):
        b = traffic * b / (n + traffic * b)
    return b


def erlang_c(agents: int, traffic: float) -> float:
    """Probability that a contact has to wait (1.0 when ``agents <= traffic``: the queue grows without bound)."""
    if traffic <= 0:
        return 0.0
    if agents <= traffic:
        return 1.0
    b = erlang_b(agents, traffic)
    return agents * b / (agents - traffic * (1 - b))


def service_level(agents: int, traffic: float, aht_seconds: float, answer_within_s: float) -> float:
    """Share of contacts answered within ``answer_within_s`` seconds."""
    if traffic <= 0:
        return 1.0
    if agents <= traffic:
        return 0.0
    return 1 - erlang_c(agents, traffic) * math.exp(-(agents - traffic) * answer_within_s / aht_seconds)


@dataclass(frozen=True, slots=True)
class StaffingResult:
    """Agents needed for one interval."""

    volume_per_hour: float
    aht_seconds: float
    target_service_level: float
    answer_within_s: float
    shrinkage: float
    traffic_erlangs: float
    base_agents: int
    agents: int
    service_level_achieved: float
    probability_wait: float
    asa_s: float
    occupancy: float

    def to_json(self) -> dict[str, Any]:
        """JSON-safe figures; ``agents`` is what to roster (after shrinkage)."""
        return {
            "agents": self.agents,
            "base_agents": self.base_agents,
            "traffic_erlangs": self.traffic_erlangs,
            "service_level": self.service_level_achieved,
            "target_service_level": self.target_service_level,
            "answer_within_s": self.answer_within_s,
            "probability_wait": self.probability_wait,
            "asa_s": self.asa_s,
            "occupancy": self.occupancy,
            "volume_per_hour": self.volume_per_hour,
            "aht_seconds": self.aht_seconds,
            "shrinkage": self.shrinkage,
        }


def erlang_c_agents(
    volume_per_hour: float,
    aht_seconds: float,
    *,
    service_level: float = 0.8,
    answer_within_s: float = 20.0,
    shrinkage: float = 0.3,
) -> StaffingResult:
    """The least number of agents meeting ``service_level`` within ``answer_within_s``, then grossed up for
    ``shrinkage``. Raises :class:`ValueError` for impossible inputs."""
    if volume_per_hour < 0 or aht_seconds <= 0 or answer_within_s < 0:
        raise ValueError("volume must be >= 0, AHT > 0 and the answer time >= 0")
    if not 0 < service_level < 1 or not 0 <= shrinkage < 1:
        raise ValueError("service level must be in (0, 1) and shrinkage in [0, 1)")
    traffic = volume_per_hour * aht_seconds / 3600.0
    agents = max(1, math.floor(traffic) + 1) if traffic > 0 else 0
    sl = _level(agents, traffic, aht_seconds, answer_within_s)
    while sl < service_level:
        agents += 1
        sl = _level(agents, traffic, aht_seconds, answer_within_s)
    wait = erlang_c(agents, traffic) if agents else 0.0
    return StaffingResult(
        volume_per_hour=volume_per_hour,
        aht_seconds=aht_seconds,
        target_service_level=service_level,
        answer_within_s=answer_within_s,
        shrinkage=shrinkage,
        traffic_erlangs=traffic,
        base_agents=agents,
        agents=math.ceil(agents / (1 - shrinkage) - 1e-9),
        service_level_achieved=sl,
        probability_wait=wait,
        asa_s=wait * aht_seconds / (agents - traffic) if agents > traffic else 0.0,
        occupancy=traffic / agents if agents else 0.0,
    )


def _level(agents: int, traffic: float, aht: float, within: float) -> float:
    return 1.0 if traffic <= 0 else service_level(agents, traffic, aht, within)

"""``autopilot insights``: where automation would pay, and what the knowledge base is missing.

*Automation candidates* are bot-answerable drivers with volume and a low automation rate. The estimate assumes the
driver could reach ``target_automation`` (default: the automation rate of the best quarter of drivers): each extra
contact the bot resolves saves one human contact (``aht_seconds`` of agent time, ``cost_per_contact``) and costs one
bot contact; figures are scaled to 30 days.

*KB gaps* are clusters of handed-off questions the knowledge base could not answer (hand-off reasons
``low_retrieval_score`` and ``answerer_abstained``): the texts are embedded with the real sentence embedder and
grouped by agglomerative clustering on cosine distance, largest cluster first, each with the questions nearest its
centre as examples.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sklearn.cluster import AgglomerativeClustering

from automations.ports import Embedder
from automations.reports.metrics import DEFAULT_COSTS, CostModel, compute_metrics
from automations.reports.periods import Period
from automations.reports.ports import ReportSource

__all__ = ["Candidate", "GapCluster", "automation_candidates", "cluster_texts", "kb_gaps"]

MONTH = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A driver worth automating, with what it would save in 30 days."""

    category: str
    group: str
    contacts: int
    handoffs: int
    automation_rate: float
    target_automation: float
    contacts_saved_per_month: float
    hours_saved_per_month: float
    cost_saved_per_month: float

    def to_json(self) -> dict[str, Any]:
        """JSON-safe figures."""
        return {
            "category": self.category, "group": self.group, "contacts": self.contacts, "handoffs": self.handoffs,
            "automation_rate": self.automation_rate, "target_automation": self.target_automation,
            "contacts_saved_per_month": round(self.contacts_saved_per_month, 1),
            "hours_saved_per_month": round(self.hours_saved_per_month, 1),
            "cost_saved_per_month": round(self.cost_saved_per_month, 2),
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class GapCluster:
    """A group of similar questions the knowledge base could not answer."""

    size: int
    categories: tuple[tuple[str, int], ...]
    examples: tuple[str, ...]

    @property
    def top_category(self) -> str:
        """The driver most of the questions were classified as."""
        return self.categories[0][0] if self.categories else ""

    def to_json(self) -> dict[str, Any]:
        """JSON-safe view."""
        return {"size": self.size, "top_category": self.top_category, "categories": dict(self.categories),
                "examples": list(self.examples)}  # fmt: skip


async def automation_candidates(
    source: ReportSource,
    period: Period,
    *,
    now: datetime,
    costs: CostModel = DEFAULT_COSTS,
    protected: Collection[str] = (),
    target_automation: float | None = None,
    min_contacts: int = 10,
    limit: int = 10,
) -> list[Candidate]:
    """Drivers ranked by the money automating them would save; ``protected`` categories (never bot-answered)
    are left out."""
    metrics = await compute_metrics(source, period, now=now, costs=costs)
    drivers = [d for d in metrics.drivers if d.key not in protected and d.contacts >= min_contacts]
    rates = sorted(d.automation_rate or 0.0 for d in drivers)
    if target_automation is None:
        target_automation = float(np.quantile(rates, 0.75)) if rates else 0.0
    scale = MONTH / period.length
    out = []
    for d in drivers:
        rate = d.automation_rate or 0.0
        saved = max(0.0, target_automation - rate) * d.contacts * scale
        if saved <= 0:
            continue
        out.append(
            Candidate(
                d.key,
                d.group,
                d.contacts,
                d.handoffs,
                rate,
                target_automation,
                saved,
                saved * costs.aht_seconds / 3600.0,
                saved * (costs.cost_per_contact - costs.cost_per_bot_contact),
            )
        )
    return sorted(out, key=lambda c: -c.cost_saved_per_month)[:limit]


def cluster_texts(vectors: np.ndarray[Any, Any], *, distance: float = 0.65) -> np.ndarray[Any, Any]:
    """Cluster labels of unit ``vectors`` (average linkage, cosine distance cut at ``distance``)."""
    if len(vectors) < 2:
        return np.zeros(len(vectors), dtype=int)
    model = AgglomerativeClustering(n_clusters=None, metric="cosine", linkage="average", distance_threshold=distance)
    return np.asarray(model.fit_predict(vectors))


async def kb_gaps(
    source: ReportSource,
    period: Period,
    embedder: Embedder,
    *,
    max_texts: int = 2000,
    min_size: int = 3,
    examples: int = 3,
    distance: float = 0.65,
    limit: int = 10,
) -> list[GapCluster]:
    """Clusters of the period's questions handed off because no article answered them, largest first."""
    rows = [(q.text, q.category) for q in await source.kb_gap_questions(period, limit=max_texts)]
    if not rows:
        return []
    vectors = np.asarray(await embedder.embed([t for t, _ in rows]), dtype=np.float32)
    labels = cluster_texts(vectors, distance=distance)
    clusters = []
    for label in set(labels.tolist()):
        members = np.flatnonzero(labels == label)
        if len(members) < min_size:
            continue
        centre = vectors[members].mean(axis=0)
        order = members[np.argsort(-(vectors[members] @ centre))]
        picked: list[str] = []
        for i in order:
            if rows[i][0] not in picked:
                picked.append(rows[i][0])
            if len(picked) == examples:
                break
        cats = Counter(rows[i][1] for i in members).most_common()
        clusters.append(GapCluster(len(members), tuple(cats), tuple(picked)))
    return sorted(clusters, key=lambda c: (-c.size, c.top_category))[:limit]

"""The agent-facing hand-off summary."""

from __future__ import annotations

from datetime import datetime

from automations.models import Classification, Handoff
from automations.taxonomy import Taxonomy

__all__ = ["build_handoff"]


def _quote(text: str, limit: int = 500) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def build_handoff(
    *,
    taxonomy: Taxonomy,
    category: str,
    tier: str,
    reason: str,
    text: str,
    classification: Classification | None,
    tried: str,
    now: datetime,
    note: str = "",
) -> Handoff:
    """Build the hand-off for ``tier`` with SLA deadlines and a summary an agent can act on at a glance; ``note``
    (what the safety layer found, e.g. "lost card, then money gone: an unauthorised-transfer claim") comes first."""
    first, resolution = taxonomy.sla(category, tier)
    first_due, resolution_due = now + first, now + resolution
    group = taxonomy.category(category).group if category in taxonomy else "Other"
    lines = [f"Category: {category} ({group}) → tier {tier}"]
    if note:
        lines.insert(0, f"Why a person: {' '.join(note.split())}")
    if classification is not None:
        alternatives = ", ".join(f"{label} {p:.2f}" for label, p in classification.ranked[1:])
        lines.append(
            f"Confidence: {classification.confidence:.2f} for {classification.category}"
            + (f" (next: {alternatives})" if alternatives else "")
        )
    lines += [
        f"Customer asked: “{_quote(text)}”",
        f"Bot tried: {tried}",
        f"Reason: {reason}",
        f"SLA: first response by {first_due:%Y-%m-%d %H:%M} UTC, resolve by {resolution_due:%Y-%m-%d %H:%M} UTC",
    ]
    return Handoff(
        tier=tier, reason=reason, summary="\n".join(lines), first_response_due=first_due, resolution_due=resolution_due
    )

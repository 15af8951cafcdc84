"""The agent-facing hand-off summary."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from automations.models import Classification, Deadline, Handoff
from automations.nondisclosure import AGENTS_ONLY, REMINDER
from automations.taxonomy import Taxonomy

__all__ = ["build_handoff", "clock_lines", "clock_text", "due_text", "with_clocks"]


CLOCKS_TITLE = "Regulatory clocks:"


def due_text(due: datetime) -> str:
    """A clock's due time as agents read it, in its own offset: ``Mon 16 Mar 2026 23:59 UTC-04:00``."""
    offset = due.strftime("%z") or "+0000"
    return f"{due:%a %d %b %Y %H:%M} UTC{offset[:3]}:{offset[3:]}"


def clock_text(deadline: Deadline) -> str:
    """One clock for agents: the rule, who owns it, when it is due and its legal basis; an internal clock (a SAR
    decision) is marked agents-only."""
    owner = f", owned by {deadline.tier}" if deadline.tier else ""
    if deadline.internal:
        return f"{AGENTS_ONLY} {deadline.id}{owner}, internal, never tell the customer: due {due_text(deadline.due)}"
    return f"{deadline.id}{owner}: due {due_text(deadline.due)}. {' '.join(deadline.basis.split())}"


def clock_lines(deadlines: Sequence[Deadline]) -> list[str]:
    """The summary's regulatory clocks, earliest due first (none for a plain question)."""
    if not deadlines:
        return []
    return [CLOCKS_TITLE] + [f"• {clock_text(d)}" for d in sorted(deadlines, key=lambda d: d.due)]


def with_clocks(summary: str, deadlines: Sequence[Deadline]) -> str:
    """``summary`` showing every regulatory clock: its own lines, or :func:`clock_lines` added at the end."""
    if not deadlines or CLOCKS_TITLE in summary:
        return summary
    return "\n".join([summary, *clock_lines(deadlines)])


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
    deadlines: Sequence[Deadline] = (),
    no_tipping_off: bool = False,
) -> Handoff:
    """Build the hand-off for ``tier`` with SLA deadlines and a summary an agent can act on at a glance; ``note``
    (what the safety layer found, e.g. "lost card, then money gone: an unauthorised-transfer claim") comes first,
    then, with ``no_tipping_off`` (an AML or compliance contact), the agents' reminder; the regulatory clocks
    (``deadlines``) come last."""
    first, resolution = taxonomy.sla(category, tier)
    first_due, resolution_due = now + first, now + resolution
    group = taxonomy.category(category).group if category in taxonomy else "Other"
    lines = [f"Category: {category} ({group}) → tier {tier}"]
    if no_tipping_off:
        lines.insert(0, REMINDER)
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
        *clock_lines(deadlines),
    ]
    return Handoff(
        tier=tier, reason=reason, summary="\n".join(lines), first_response_due=first_due, resolution_due=resolution_due
    )

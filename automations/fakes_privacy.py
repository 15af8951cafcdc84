"""In-memory :class:`~automations.privacy.DataSubjectStore` over :class:`~automations.fakes.InMemoryEventStore`.

It keeps the SQL store's rules (see :mod:`store.privacy`): a customer's records are their contacts and every contact
of their conversations; a legal hold covers the whole conversation of an open legal or AML contact; retention marks
purged texts by an empty text and purged identifiers by a token. In memory there are no agent events, so only a
``resolved`` outcome closes a held contact.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from automations.fakes import InMemoryEventStore
from automations.models import Decision, Feedback, OutcomeRecord, OutcomeState
from automations.privacy import (
    ANON_PREFIX,
    Erasure,
    Held,
    LegalHold,
    Purge,
    RetentionPolicy,
    SubjectExport,
    id_pattern,
    new_token,
)

__all__ = ["MemoryDataSubjectStore"]


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _rows(name: str, decisions: list[Decision], store: InMemoryEventStore) -> list[dict[str, Any]]:
    ids = {d.contact_id for d in decisions}
    if name == "contacts":
        return [{"id": d.contact_id, "customer_id": d.customer_id, "conversation_id": d.conversation_id,
                 "channel": str(d.channel), "source": d.source, "text": d.text, "received_at": _iso(d.decided_at)}
                for d in decisions]  # fmt: skip
    if name == "decisions":
        return [{"contact_id": d.contact_id, "category": d.category, "tier": d.tier, "action": str(d.action),
                 "reason": d.reason, "reply": d.reply, "summary": d.handoff.summary if d.handoff else None,
                 "decided_at": _iso(d.decided_at)} for d in decisions]  # fmt: skip
    if name == "outcomes":
        return [{"contact_id": o.contact_id, "customer_id": o.customer_id, "state": str(o.state),
                 "reason": o.reason, "updated_at": _iso(o.updated_at)}
                for o in store.outcomes.values() if o.contact_id in ids]  # fmt: skip
    if name == "outcome_transitions":
        return [{"contact_id": c, "from_state": f, "to_state": str(t), "at": _iso(at), "reason": r}
                for c, f, t, at, r in store.history if c in ids]  # fmt: skip
    return [{"contact_id": f.contact_id, "at": _iso(f.at), "helpful": f.helpful, "csat": f.csat, "source": f.source,
             "comment": f.comment} for f in store.feedback if f.contact_id in ids]  # fmt: skip


class MemoryDataSubjectStore:
    """The fake shipped beside :class:`~automations.privacy.DataSubjectStore`, over an in-memory event store."""

    TABLES = ("contacts", "decisions", "outcomes", "outcome_transitions", "feedback")

    def __init__(self, events: InMemoryEventStore) -> None:
        """Work on ``events``' dicts in place."""
        self.events = events

    def _subject(self, customer_id: str) -> list[Decision]:
        ds = self.events.decisions.values()
        conversations = {d.conversation_id for d in ds if d.customer_id == customer_id and d.conversation_id}
        return [d for d in ds if d.customer_id == customer_id or d.conversation_id in conversations]

    def _directly_held(self, d: Decision, hold: LegalHold) -> bool:
        outcome = self.events.outcomes.get(d.contact_id)
        is_open = outcome is not None and outcome.state is not OutcomeState.RESOLVED
        return hold.applies(tier=d.tier, category=d.category, is_open=is_open)

    def _held(self, decisions: Collection[Decision], hold: LegalHold) -> list[Held]:
        direct = sorted((d for d in self.events.decisions.values() if self._directly_held(d, hold)),
                        key=lambda d: d.contact_id)  # fmt: skip
        found: list[Held] = []
        for d in sorted(decisions, key=lambda d: d.contact_id):
            by = [h for h in direct if h.contact_id == d.contact_id]
            by += [h for h in direct if d.conversation_id and h.conversation_id == d.conversation_id]
            if by:
                found.append(Held(d.contact_id, by[0].tier, by[0].category))
        return found

    async def export(self, customer_id: str, *, at: datetime, hold: LegalHold) -> SubjectExport:
        """The customer's rows, with the SQL tables' names and columns."""
        decisions = self._subject(customer_id)
        records = {name: rows for name in self.TABLES if (rows := _rows(name, decisions, self.events))}
        return SubjectExport(customer_id, at, records, tuple(self._held(decisions, hold)))

    def _rewrite(self, chosen: Collection[Decision], tokens: Mapping[str, str], *, blank: bool) -> dict[str, int]:
        pattern = id_pattern(tokens)

        def swap(text: str | None) -> str | None:
            return pattern.sub(lambda m: tokens[m.group(0)], text) if pattern and text is not None else text

        counts = dict.fromkeys(self.TABLES, 0)
        ev = self.events
        for d in chosen:
            new_id = swap(d.contact_id) or d.contact_id
            handoff = replace(d.handoff, summary="") if blank and d.handoff else d.handoff
            ev.decisions.pop(d.contact_id)
            ev.decisions[new_id] = replace(
                d, contact_id=new_id, customer_id=swap(d.customer_id), conversation_id=swap(d.conversation_id),
                text="" if blank else d.text, reply="" if blank and d.reply else d.reply, handoff=handoff,
            )  # fmt: skip
            counts["contacts"] += 1
            counts["decisions"] += 1
            old: OutcomeRecord | None = ev.outcomes.pop(d.contact_id, None)
            if old is not None:
                ev.outcomes[new_id] = replace(old, contact_id=new_id, customer_id=swap(old.customer_id),
                                              reason=swap(old.reason) or "")  # fmt: skip
                counts["outcomes"] += 1
        ids = {d.contact_id for d in chosen}
        for i, (c, f, t, at, r) in enumerate(ev.history):
            if c in ids:
                ev.history[i] = (swap(c) or c, f, t, at, swap(r) or "")
                counts["outcome_transitions"] += 1
        for i, fb in enumerate(ev.feedback):
            if fb.contact_id in ids:
                ev.feedback[i] = Feedback(swap(fb.contact_id) or fb.contact_id, fb.at, fb.helpful, fb.csat,
                                          fb.source, "" if blank else fb.comment)  # fmt: skip
                counts["feedback"] += 1
        return {name: n for name, n in counts.items() if n}

    async def erase(self, customer_id: str, *, token: str, hold: LegalHold) -> Erasure:
        """Anonymise the customer's decisions, outcomes, history and feedback, except under a legal hold."""
        decisions = self._subject(customer_id)
        held = self._held(decisions, hold)
        kept = {h.contact_id for h in held}
        chosen = [d for d in decisions if d.contact_id not in kept]
        tokens = {customer_id: token}  # the held contacts keep the customer's id: only their rows still name them
        for d in chosen:
            tokens[d.contact_id] = new_token()
            if d.conversation_id:
                tokens.setdefault(d.conversation_id, new_token())
        return Erasure(token, self._rewrite(chosen, tokens, blank=True), tuple(held))

    async def purge(self, policy: RetentionPolicy, *, now: datetime, hold: LegalHold) -> Purge:
        """Texts past their cutoff, then identifiers past theirs (held contacts kept and reported)."""
        counts: dict[str, int] = {}
        held: dict[str, Held] = {}
        done = {"texts": 0, "identifiers": 0}
        for kind, cutoff in (("texts", policy.text_cutoff(now)), ("identifiers", policy.identifier_cutoff(now))):
            if cutoff is None:
                continue
            ids = kind == "identifiers"

            def purged(d: Decision, ids: bool = ids) -> bool:
                return d.contact_id.startswith(ANON_PREFIX) if ids else d.text == ""

            marked = [d for d in self.events.decisions.values() if d.decided_at < cutoff and not purged(d)]
            found = self._held(marked, hold)
            held.update({h.contact_id: h for h in found})
            chosen = sorted((d for d in marked if d.contact_id not in held), key=lambda d: (d.decided_at, d.contact_id))
            tokens: dict[str, str] = {}
            if ids:
                chosen_ids = {d.contact_id for d in chosen}
                for d in chosen:
                    tokens[d.contact_id] = new_token()
                    if d.customer_id:
                        tokens.setdefault(d.customer_id, new_token())
                    conv = d.conversation_id
                    mates = [m for m in self.events.decisions.values() if m.conversation_id == conv]
                    if conv and all(m.contact_id in chosen_ids or m.contact_id.startswith(ANON_PREFIX) for m in mates):
                        tokens.setdefault(conv, new_token())
            for name, n in self._rewrite(chosen, tokens, blank=not ids).items():
                counts[name] = counts.get(name, 0) + n
            done[kind] = len(chosen)
        return Purge(done["texts"], done["identifiers"], counts, tuple(held[k] for k in sorted(held)))

"""A realistic, reproducible contact history, bulk-inserted into the event store (``autopilot demo --days``).

Weekly and daily seasonality, a driver whose volume rises and one whose deflection falls (and whose customers come
back more often) in the last week, a planted spike two days ago, repeat contacts, mixed outcomes with CSAT, agent
first responses and closures (with some SLA misses) and knowledge-base gaps. The hand-offs go to the demo team's
named agents (:mod:`bot.demo_team`), a share of whose conversations is captured and scored. Texts are the
project's own labelled examples (``automations/data/examples/*.csv``), redacted like any contact. Rows go in with
multi-row inserts, in chunks of one day.
"""

from __future__ import annotations

import csv
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import insert, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from automations.qa import QaScorer, load_scorecard
from automations.redaction import redact
from automations.resources import data_path
from automations.taxonomy import Category, Taxonomy, load_taxonomy
from bot.demo_team import DemoTeam, load_team
from bot.settings import Settings
from store import SqlEventStore
from store.schema import METADATA

__all__ = ["HistorySummary", "bulk_history", "generate_history", "load_texts"]

EXAMPLES = data_path("examples")
WEEKDAY = np.array([1.15, 1.1, 1.05, 1.0, 0.95, 0.7, 0.65])
HOURLY = np.array([0.2, 0.12, 0.1, 0.1, 0.12, 0.25, 0.5, 0.9, 1.3, 1.6, 1.7, 1.7,
                   1.65, 1.6, 1.55, 1.5, 1.45, 1.4, 1.5, 1.55, 1.3, 1.0, 0.7, 0.4])  # fmt: skip
HOURLY = HOURLY / HOURLY.sum()
SOURCES = (("intercom", 0.82), ("email", 0.12), ("slack", 0.06))
RISING, FALLING, SPIKING = "transfer_not_received_by_recipient", "top_up_failed", "declined_card_payment"
KB_GAPS = {"card_payment_wrong_exchange_rate": 0.5, "beneficiary_not_allowed": 0.45, "virtual_card_not_working": 0.4}
REPEATS = 0.06  # share of contacts from a customer who asked about the same driver among its last 50 contacts
TABLES = ("contacts", "decisions", "outcomes", "outcome_transitions", "feedback", "agent_events", "transcript_turns",
          "qa_scores")  # fmt: skip


@dataclass(frozen=True, slots=True)
class HistorySummary:
    """What was generated."""

    contacts: int
    days: int
    start: datetime
    end: datetime
    spike_category: str
    spike_hour: datetime
    rows: dict[str, int]

    def describe(self, database: str) -> str:
        """The summary as a person reads it (printed by ``autopilot demo --days``); the password is masked."""
        rows = ", ".join(f"{name.replace('_', ' ')} {count:,}" for name, count in self.rows.items())
        where = make_url(database).render_as_string(hide_password=True)
        spike = (
            f"Planted spike: {self.spike_category}, {self.spike_hour:%Y-%m-%d %H:00} UTC.\n"
            if self.start <= self.spike_hour < self.end
            else ""  # a history shorter than two days ends before the spike
        )
        return (
            f"Generated {self.contacts:,} contacts over {self.days} day{'s' if self.days != 1 else ''} "
            f"({self.start:%Y-%m-%d %H:%M} to {self.end:%Y-%m-%d %H:%M} UTC) into {where}.\n"
            f"Rows written: {rows}.\n{spike}"
            "Next: autopilot report --period 7d, autopilot insights, autopilot staffing --week"
        )


def load_texts(folder: Path = EXAMPLES) -> dict[str, list[str]]:
    """Redacted example texts by category from every CSV in ``folder``."""
    texts: dict[str, list[str]] = defaultdict(list)
    for path in sorted(folder.glob("*.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                texts[row["category"]].append(redact(row["text"]))
    return dict(texts)


class _Day:
    """Row builder for one day of contacts."""

    def __init__(
        self,
        taxonomy: Taxonomy,
        texts: dict[str, list[str]],
        rng: np.random.Generator,
        now: datetime,
        recent: dict[str, deque[str]],
        team: DemoTeam | None = None,
    ):
        self.taxonomy, self.texts, self.rng, self.now, self.recent = taxonomy, texts, rng, now, recent
        self.team = team
        self.rows: dict[str, list[dict[str, Any]]] = {t: [] for t in TABLES}

    def _customer(self, cat: Category, *, recent_week: bool) -> str:
        """A new customer, or (sometimes) one who asked about the same driver recently: a repeat contact."""
        seen = self.recent.setdefault(cat.id, deque(maxlen=50))
        chance = REPEATS * (4 if cat.id == FALLING and recent_week else 1)
        if seen and self.rng.random() < chance:
            customer = seen[int(self.rng.integers(len(seen)))]
        else:
            customer = f"cus-{int(self.rng.integers(0, 2_000_000))}"
        seen.append(customer)
        return customer

    def contact(self, cid: str, cat: Category, at: datetime, *, recent_week: bool) -> None:
        rng, rows = self.rng, self.rows
        pool = self.texts.get(cat.id) or [f"I have a question about {cat.id.replace('_', ' ')}"]
        source = SOURCES[int(rng.choice(3, p=[p for _, p in SOURCES]))][0]
        customer = self._customer(cat, recent_week=recent_week)
        if self.team is not None:  # a customer whose conversation an agent closed badly comes back
            customer = self.team.returning(cat.id, at) or customer
        text = pool[int(rng.integers(len(pool)))]
        rows["contacts"].append({"id": cid, "customer_id": customer, "conversation_id": f"conv-{cid}",
                                 "channel": "customer", "source": source, "received_at": at,
                                 "text": text})  # fmt: skip
        gap = KB_GAPS.get(cat.id, 0.04)
        answer = cat.reply is not None or (
            cat.bot_may_answer and cat.id != "human_request" and rng.random() < 0.82 - gap
        )
        decision: dict[str, Any] = {
            "contact_id": cid, "category": cat.id, "group": str(cat.group), "confidence": float(rng.uniform(0.5, 1)),
            "injection": False, "latency_ms": float(rng.gamma(4.0, 60.0)), "decided_at": at, "reply": None,
            "article_id": None, "article_url": None, "retrieval_score": None, "handoff_reason": None, "summary": None,
            "first_response_due": None, "resolution_due": None,
        }  # fmt: skip
        if answer:
            article = cat.articles[0] if cat.articles else None
            decision |= {"action": "answer", "tier": "bot", "reason": "answered", "reply": "See the article.",
                         "article_id": article, "retrieval_score": float(rng.uniform(0.5, 0.9)),
                         "article_url": f"https://help.lumen.example/{article}" if article else None}  # fmt: skip
            self._answer_outcome(cid, customer, cat, at, decision, recent_week=recent_week)
        else:
            reason = self._handoff_reason(cat)
            first, resolution = self.taxonomy.sla(cat.id, cat.tier)
            decision |= {"action": "handoff", "tier": cat.tier, "reason": reason, "handoff_reason": reason,
                         "summary": f"Category: {cat.id} → tier {cat.tier}", "first_response_due": at + first,
                         "resolution_due": at + resolution}  # fmt: skip
            self._outcome(cid, customer, cat, at, "handed_off", at, reason)
            self._agent(cid, cat, customer, text, at, first, resolution)
        rows["decisions"].append(decision)

    def _handoff_reason(self, cat: Category) -> str:
        if not cat.bot_may_answer or cat.id == "human_request":
            return "not_bot_answerable"
        options = ("low_confidence", "low_retrieval_score", "answerer_abstained")
        gap = KB_GAPS.get(cat.id)
        return options[int(self.rng.choice(3, p=[0.1, 0.6, 0.3] if gap else [0.7, 0.2, 0.1]))]

    def _answer_outcome(
        self, cid: str, customer: str, cat: Category, at: datetime, decision: dict[str, Any], *, recent_week: bool
    ) -> None:
        rng = self.rng
        deflect = 0.35 if (cat.id == FALLING and recent_week) else 0.78
        roll = rng.random()
        if at > self.now - timedelta(hours=24) and roll < 0.7:
            state, moved = "answered", at
        elif roll < deflect:
            state, moved = "resolved", at + timedelta(hours=24)
        elif roll < deflect + (1 - deflect) * 0.7:
            state, moved = "escalated", at + timedelta(minutes=float(rng.uniform(2, 300)))
        else:
            state, moved = "reopened", at + timedelta(hours=float(rng.uniform(25, 160)))
        moved = min(moved, self.now)
        self._outcome(cid, customer, cat, at, state, moved, decision["reason"])
        if rng.random() < 0.25 and state != "answered":
            mean = {"resolved": 4.4, "escalated": 2.3, "reopened": 2.8}[state]
            self._csat(cid, moved, mean)

    def _outcome(
        self, cid: str, customer: str, cat: Category, at: datetime, state: str, moved: datetime, reason: str
    ) -> None:
        initial = "handed_off" if state == "handed_off" else "answered"
        self.rows["outcomes"].append({"contact_id": cid, "customer_id": customer, "category": cat.id,
                                      "group": str(cat.group), "state": state, "decided_at": at,
                                      "updated_at": moved, "reason": reason})  # fmt: skip
        self.rows["outcome_transitions"].append(
            {"contact_id": cid, "from_state": None, "to_state": initial, "at": at, "reason": reason}
        )
        if state != initial:
            self.rows["outcome_transitions"].append(
                {"contact_id": cid, "from_state": initial, "to_state": state, "at": moved, "reason": "demo history"}
            )

    def _csat(self, cid: str, at: datetime, mean: float) -> None:
        score = int(np.clip(round(self.rng.normal(mean, 0.9)), 1, 5))
        self.rows["feedback"].append(
            {"contact_id": cid, "at": at, "helpful": score >= 4, "csat": score, "source": "customer", "comment": ""}
        )

    def _agent(
        self, cid: str, cat: Category, customer: str, text: str, at: datetime, first: timedelta, resolution: timedelta
    ) -> None:
        if self.team is not None:  # the demo team: named agents, their conversations written and scored
            _, events, rating, closed = self.team.handle(cid, cat, customer, text, at, first, resolution)
            self.rows["agent_events"].extend(events)
            if rating is not None:
                self.rows["feedback"].append({"contact_id": cid, "at": closed, "helpful": rating >= 4, "csat": rating,
                                              "source": "customer", "comment": ""})  # fmt: skip
            return
        rng = self.rng
        responded = at + first * float(rng.choice([rng.uniform(0.05, 0.9), rng.uniform(1.0, 2.5)], p=[0.9, 0.1]))
        closed = responded + (
            resolution * float(rng.choice([rng.uniform(0.05, 0.8), rng.uniform(1.0, 2.0)], p=[0.93, 0.07]))
        )
        actor = f"agent-{int(rng.integers(1, 40))}"
        for kind, when in (("assigned", at + timedelta(seconds=5)), ("first_response", responded), ("closed", closed)):
            if when <= self.now:
                self.rows["agent_events"].append(
                    {"contact_id": cid, "kind": kind, "at": when, "actor": actor, "detail": ""}
                )
        if closed <= self.now and rng.random() < 0.3:
            self._csat(cid, closed, 3.9)


async def bulk_history(
    engine: AsyncEngine,
    taxonomy: Taxonomy,
    texts: dict[str, list[str]],
    *,
    now: datetime,
    days: int,
    per_day: int,
    seed: int = 7,
    prefix: str = "demo",
    chunk: int = 5000,
    team: DemoTeam | None = None,
) -> HistorySummary:
    """Insert ``days`` days (ending ``now``) of about ``per_day`` customer contacts a day; returns a summary. With
    ``team``, its agents take the hand-offs, and a share of their conversations is captured and scored."""
    rng = np.random.default_rng(seed)
    categories = list(taxonomy)
    weights = np.array([0.2 if c.id == "out_of_scope" else 1.0 / (1 + i % 17) for i, c in enumerate(categories)])
    by_id = {c.id: i for i, c in enumerate(categories)}
    weights[by_id[FALLING]] = weights[by_id[RISING]] = 0.5  # enough volume for their trends to be significant
    start = (now - timedelta(days=days)).replace(minute=0, second=0, microsecond=0)
    spike_hour = (now - timedelta(days=2)).replace(hour=14, minute=0, second=0, microsecond=0)
    totals: dict[str, int] = defaultdict(int)
    serial = 0
    recent: dict[str, deque[str]] = {}
    tables = METADATA.tables
    for day in range(days + 1):
        builder = _Day(taxonomy, texts, rng, now, recent, team)
        day_start = start + timedelta(days=day)
        recent_week = day_start >= now - timedelta(days=7)
        w = weights.copy()
        if recent_week:
            w[by_id[RISING]] *= 2.5
        w /= w.sum()
        expected = per_day * WEEKDAY[day_start.weekday()] * HOURLY
        for hour, count in enumerate(rng.poisson(expected)):
            hour_start = day_start + timedelta(hours=hour)
            extra = 40 if hour_start == spike_hour else 0
            picks = list(rng.choice(len(categories), size=int(count), p=w)) + [by_id[SPIKING]] * extra
            for pick in picks:
                at = hour_start + timedelta(seconds=float(rng.uniform(0, 3600)))
                if at >= now:
                    continue
                serial += 1
                builder.contact(f"{prefix}-{serial:08d}", categories[int(pick)], at, recent_week=recent_week)
        if team is not None:
            builder.rows["transcript_turns"], builder.rows["qa_scores"] = await team.flush()
        async with engine.begin() as conn:
            for name in TABLES:
                rows = builder.rows[name]
                for offset in range(0, len(rows), chunk):
                    await conn.execute(insert(tables[name]), rows[offset : offset + chunk])
                totals[name] += len(rows)
    return HistorySummary(totals["contacts"], days, start, now, SPIKING, spike_hour, dict(totals))


async def generate_history(
    settings: Settings, *, days: int, seed: int = 7, per_day: int = 1500, now: datetime | None = None
) -> HistorySummary:
    """Generate ``days`` days of history into the configured database (``settings.db_url``), migrating it first."""
    now = now or datetime.now(UTC)
    team = DemoTeam(load_team(), QaScorer(load_scorecard(settings.qa_scorecard_path)), now, seed=seed)
    store = await SqlEventStore.open(settings.db_url)
    try:
        return await bulk_history(
            store.engine, load_taxonomy(settings.taxonomy_path), load_texts(), now=now, days=days,
            per_day=per_day, seed=seed, prefix=f"demo{now:%Y%m%d%H%M%S}-{seed}", team=team,
        )  # fmt: skip
    finally:
        await store.close()

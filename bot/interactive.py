"""``autopilot ask``, ``chat`` and ``demo``: the agent view, the customer view, and a replayed stream."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

from automations.models import Action, Channel, Contact, Decision, OutcomeState
from automations.nondisclosure import agents_only_removed
from automations.resources import packaged
from bot.composition import build_core
from bot.settings import Settings

__all__ = ["DEFAULT_STREAM", "agent_answer", "chat_loop", "render", "run_demo"]

DEFAULT_STREAM = packaged("bot", "data", "demo_stream.jsonl")


class StreamLine(BaseModel):
    """One contact of a replayed stream."""

    id: str
    customer_id: str
    minutes: int
    text: str


class ReplayClock:
    """A clock the replay sets to each contact's timestamp."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def now(self) -> datetime:
        """The replayed time."""
        return self.current


def render(decision: Decision, *, customer: bool = False) -> str:
    """A decision as a person reads it; for a ``customer``, without the agents-only lines (an internal clock, the
    no-tipping-off reminder)."""
    head = (
        f"[{decision.category} · {decision.confidence:.2f} · {decision.action} → {decision.tier} · {decision.reason}]"
    )
    if decision.action is Action.ANSWER:
        return f"{head}\n{decision.reply}"
    assert decision.handoff is not None
    summary = agents_only_removed(decision.handoff.summary) if customer else decision.handoff.summary
    return f"{head}\nHanded to {decision.tier}.\n{summary}"


async def agent_answer(settings: Settings, question: str) -> str:
    """Answer an agent's question from public and internal articles."""
    core = await build_core(settings)
    try:
        decision = await core.pipeline.handle(
            Contact(id=f"ask:{uuid.uuid4().hex}", text=question, channel=Channel.AGENT, source="cli")
        )
        return render(decision)
    finally:
        await core.close()


async def chat_loop(settings: Settings, customer: str, console: Console) -> None:
    """Read customer messages from the terminal until EOF or 'quit'."""
    core = await build_core(settings)
    console.print("[bold]Lumen support[/] (type 'quit' to leave)")
    try:
        while True:
            try:
                text = console.input("[bold cyan]you>[/] ")
            except EOFError:
                break
            if text.strip().lower() in {"quit", "exit"}:
                break
            if not text.strip():
                continue
            decision = await core.pipeline.handle(
                Contact(id=f"chat:{uuid.uuid4().hex}", text=text, customer_id=customer, source="terminal")
            )
            console.print("[bold green]bot>[/] ", end="")
            console.print(render(decision, customer=True), markup=False, highlight=False)
    finally:
        await core.close()


async def run_demo(settings: Settings, stream: Path | None, console: Console) -> None:
    """Replay ``stream`` through the pipeline and summarise deflection."""
    lines = [StreamLine.model_validate_json(raw) for raw in (stream or DEFAULT_STREAM).read_text().splitlines() if raw]
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
    clock = ReplayClock(start)
    core = await build_core(settings, clock=clock)
    run = uuid.uuid4().hex[:8]
    table = Table("t+min", "customer", "message (redacted)", "category", "conf", "decision", "article", box=None)
    decisions: list[Decision] = []
    try:
        for line in lines:
            clock.current = start + timedelta(minutes=line.minutes)
            contact = Contact(
                id=f"demo-{run}:{line.id}", text=line.text, customer_id=f"{line.customer_id}-{run}",
                received_at=clock.current, source="demo",
            )  # fmt: skip
            decision = await core.pipeline.handle(contact)
            decisions.append(decision)
            verdict = "answer" if decision.action is Action.ANSWER else f"→ {decision.tier} ({decision.reason})"
            text = decision.text if len(decision.text) < 70 else decision.text[:67] + "…"
            table.add_row(
                str(line.minutes), line.customer_id, text, decision.category, f"{decision.confidence:.2f}", verdict,
                decision.article_id or "",
            )  # fmt: skip
        console.print(table)
        clock.current = start + timedelta(minutes=lines[-1].minutes) + core.outcomes.resolve_after + timedelta(hours=1)
        await core.outcomes.finalize(clock.current)
        states = Counter[str]()
        for decision in decisions:
            outcome = await core.store.get_outcome(decision.contact_id)
            states[str(outcome.state if outcome else "missing")] += 1
        tiers = Counter(d.tier for d in decisions if d.action is Action.HANDOFF)
        answered = sum(d.action is Action.ANSWER for d in decisions)
        resolved = states[str(OutcomeState.RESOLVED)]
        console.print(
            json.dumps(
                {
                    "contacts": len(decisions),
                    "bot_answered": answered,
                    "handed_off_by_tier": dict(tiers),
                    "outcomes": dict(states),
                    "deflection_rate": round(resolved / len(decisions), 3) if decisions else 0.0,
                    "database": core.settings.db_url,
                },
                indent=2,
            )
        )
    finally:
        await core.close()

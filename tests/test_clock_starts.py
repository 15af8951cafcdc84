"""The pipeline starts a batch's regulatory clocks together, and one by one when that fails."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from automations.audit import MemoryAuditTrail
from automations.deadlines import MemoryRegulatoryClocks, RegulatoryClock
from automations.decisions import DecisionMaker
from automations.fakes import SettableClock
from automations.models import Action, Channel, Contact, Deadline, Decision
from automations.regulatory import Regulatory
from automations.taxonomy import load_taxonomy

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Counting(MemoryRegulatoryClocks):
    """Counts the calls; ``start_many`` fails when ``broken``."""

    def __init__(self, *, broken: bool = False) -> None:
        super().__init__(MemoryAuditTrail())
        self.broken, self.calls = broken, list[str]()

    async def start(self, decision: Decision, *, received_at: datetime | None = None) -> list[RegulatoryClock]:
        self.calls.append("start")
        return await super().start(decision, received_at=received_at)

    async def start_many(self, decisions: Sequence[tuple[Decision, datetime | None]]) -> list[RegulatoryClock]:
        self.calls.append("start_many")
        if self.broken:
            raise ConnectionError("database busy")
        return await super().start_many(decisions)


def decision(contact_id: str, *deadlines: Deadline) -> Decision:
    return Decision(
        contact_id=contact_id, channel=Channel.CUSTOMER, text="…", category="data_privacy_request", group="Compliance",
        confidence=0.9, action=Action.HANDOFF, tier="compliance", reason="safety:data_privacy_request", decided_at=T0,
        customer_id="cust-1", conversation_id=f"intercom:{contact_id}", deadlines=deadlines,
    )  # fmt: skip


def contact(contact_id: str) -> Contact:
    return Contact(id=contact_id, text="…", received_at=T0 - timedelta(hours=1))


def layer(clocks: Counting) -> Regulatory:
    taxonomy = load_taxonomy()
    return Regulatory(taxonomy, DecisionMaker(taxonomy, SettableClock(T0)), clocks)


PRIVACY = Deadline("privacy_request", T0 + timedelta(days=30), "basis")


async def test_a_batch_starts_its_clocks_together() -> None:
    clocks = Counting()
    decisions = [decision("a", PRIVACY), decision("b"), decision("c", PRIVACY)]
    await layer(clocks).start_clocks(decisions, [contact(d.contact_id) for d in decisions])
    assert clocks.calls == ["start_many", "start", "start"]  # the fake's start_many is start for each
    assert [c.contact_id for c in await clocks.open(T0)] == ["a", "c"]
    assert all(c.started_at == T0 - timedelta(hours=1) for c in await clocks.open(T0))


async def test_when_the_batch_fails_each_decision_starts_its_own() -> None:
    clocks = Counting(broken=True)
    decisions = [decision("a", PRIVACY), decision("c", PRIVACY)]
    await layer(clocks).start_clocks(decisions, [contact(d.contact_id) for d in decisions])
    assert clocks.calls == ["start_many", "start", "start"]
    assert [c.contact_id for c in await clocks.open(T0)] == ["a", "c"]

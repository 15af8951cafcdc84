"""The whole bot in memory, in the spirit of errbot's ``testbot``.

The real service, the real ASGI app and every real channel adapter (Intercom, Slack's Bolt app, the playground), over
the core's in-memory fakes: a keyword classifier, an in-memory index, event store, inbox, outbox and conversation
state. A signed Intercom webhook or Slack event goes in over HTTP; :meth:`TestBot.effects` gives the outbox actions
it produced. Slack's Web API is the local HTTP fake (Bolt asks it who the bot is); nothing is sent by the test bot
itself, because the outbox is the effect.

    async def test_answers(testbot):
        await testbot.intercom(user_created("where is my card?"))
        assert testbot.effects("intercom")[0].kind == "reply"
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from automations.answering import ExtractiveAnswerer
from automations.audit import MemoryAuditTrail
from automations.deadlines import MemoryRegulatoryClocks
from automations.fakes import FixedClassifier, HashEmbedder, InMemoryEventStore, InMemoryIndex, SettableClock
from automations.fakes_queues import InMemoryConversations, InMemoryInbox, InMemoryOutbox
from automations.models import Passage, Visibility
from automations.nondisclosure import NonDisclosure
from automations.obligations import load_obligations
from automations.outcomes import OutcomeTracker
from automations.pipeline import Pipeline, Policy
from automations.ports import Answerer, HandoffSummarizer
from automations.qa.records import MemoryQaRecords
from automations.queues import OutboxAction
from automations.redaction import Redactor
from automations.safety import SafetyGate, load_safety_rules
from automations.taxonomy import Taxonomy, load_taxonomy
from bot.composition import LogNotifier
from bot.context import Core, Queues
from bot.http import create_app
from bot.intercom.wiring import intercom_parts
from bot.playground import playground_parts
from bot.service import Service, build_service
from bot.settings import Settings
from bot.slack.wiring import slack_parts
from evals.intercom_payloads import BOT_ADMIN_ID, SECRET, signed
from tests.fakes.slack_api import FakeSlackApi, SlackDelivery
from tests.fakes.slack_stack import slack_settings

__all__ = ["KEYWORDS", "PASSAGES", "TestBot", "make_testbot"]

TAXONOMY = load_taxonomy()
SAFETY = SafetyGate(load_safety_rules())
OBLIGATIONS = load_obligations()
PASSAGES = (
    Passage(
        "card-delivery", "Card delivery and tracking", "Where is my card",
        "Standard card delivery takes 3-5 working days. Track your card in the app under Card and On its way.",
        "https://help.lumen.example/articles/card-delivery", Visibility.PUBLIC, ("card_arrival",),
    ),
    Passage(
        "internal-card-compromise", "Compromised card details (agent procedure)", "Block the card first",
        "Agents block the card at once, check the exposure, then reissue the card with new details.",
        "https://wiki.lumen.internal/support/internal-card-compromise", Visibility.INTERNAL, ("compromised_card",),
    ),
)  # fmt: skip
KEYWORDS: dict[str, tuple[str, float]] = {
    "compromised": ("compromised_card", 0.9),
    "pending": ("pending_card_payment", 0.3),
    "card": ("card_arrival", 0.95),
}
"""The keyword classifier's rules: first keyword found wins (else ``out_of_scope`` at 0.4)."""


@dataclass
class TestBot:
    """A built service with in-memory ports, its ASGI client, and Slack's and Intercom's sides."""

    __test__ = False  # not a test class, whatever pytest thinks of the name

    service: Service
    http: httpx.AsyncClient
    slack: SlackDelivery
    store: InMemoryEventStore
    outbox: InMemoryOutbox
    clock: SettableClock
    clocks: MemoryRegulatoryClocks
    audit: MemoryAuditTrail
    transcripts: MemoryQaRecords

    async def intercom(self, payload: Mapping[str, Any]) -> httpx.Response:
        """POST a correctly signed Intercom notification, then process the inbox."""
        body, headers = signed(dict(payload))
        response = await self.http.post("/intercom/webhooks", content=body, headers=headers)
        await self.drain()
        return response

    async def mention(self, text: str, *, user: str = "UAGENT", channel: str = "C_AGENTS", event_id: str = "Ev1",
                      thread_ts: str | None = None) -> httpx.Response:  # fmt: skip
        """A signed Slack ``app_mention`` of the bot by an agent, then process the inbox."""
        event = {"type": "app_mention", "user": user, "channel": channel, "text": f"<@UBOT> {text}",
                 "ts": f"{len(self.outbox.actions) + 1}.000100", "thread_ts": thread_ts}  # fmt: skip
        response = await self.slack.event({k: v for k, v in event.items() if v is not None}, event_id=event_id)
        await self.drain()
        return response

    async def drain(self) -> None:
        """Process every inbox item now (the workers are not running)."""
        while await self.service.processor.run_once():
            pass

    def effects(self, target: str | None = None) -> list[OutboxAction]:
        """Every outbox action queued so far, oldest first, optionally for one target (``intercom``, ``slack``)."""
        return [a for a in self.outbox.actions.values() if target is None or a.target == target]

    def payloads(self, target: str | None = None) -> list[dict[str, Any]]:
        """The JSON payloads of :meth:`effects`."""
        return [json.loads(a.payload) for a in self.effects(target)]


@contextlib.asynccontextmanager
async def make_testbot(
    tmp_path: Path, *, keywords: Mapping[str, tuple[str, float]] = KEYWORDS, passages: Sequence[Passage] = PASSAGES,
    summarizer: HandoffSummarizer | None = None, answerer: Answerer | None = None, taxonomy: Taxonomy = TAXONOMY,
    **settings: Any,
) -> AsyncIterator[TestBot]:  # fmt: skip
    """Build the in-memory bot (Intercom and Slack on; Slack's Web API on a local fake) and yield it."""
    with FakeSlackApi() as fake:
        base = Settings(  # type: ignore[call-arg]
            AUTOPILOT_DATA_DIR=tmp_path, INTERCOM_CLIENT_SECRET=SECRET, INTERCOM_BOT_ADMIN_ID=BOT_ADMIN_ID,
            INTERCOM_TEAM_T1="team-t1", INTERCOM_TEAM_FRAUD="team-fraud",
        )  # fmt: skip
        config = slack_settings(base, fake, **settings)
        clock, store = SettableClock(), InMemoryEventStore()
        audit = MemoryAuditTrail()
        clocks = MemoryRegulatoryClocks(audit)
        classifier = FixedClassifier(dict(keywords), ("out_of_scope", 0.4))
        index = InMemoryIndex(tuple(passages))
        outcomes = OutcomeTracker(store)
        pipeline = Pipeline(
            taxonomy=taxonomy, classifier=classifier, index=index, answerer=answerer or ExtractiveAnswerer(),
            store=store, notifier=LogNotifier(), clock=clock, policy=Policy(confidence=0.5, retrieval=0.05),
            safety=SAFETY, redactor=Redactor(), outcomes=outcomes, summarizer=summarizer, obligations=OBLIGATIONS,
            clocks=clocks, nondisclosure=NonDisclosure.of(taxonomy),
        )  # fmt: skip
        core = Core(config, taxonomy, HashEmbedder(), classifier, index, store, pipeline, outcomes, None, clocks, audit)
        outbox = InMemoryOutbox()
        transcripts = MemoryQaRecords()
        queues = Queues(InMemoryInbox(), outbox, InMemoryConversations(), transcripts=transcripts)
        service = await build_service(
            config, core=core, queues=queues, clock=clock, parts=[slack_parts, intercom_parts, playground_parts]
        )
        app = create_app(service, manage_lifecycle=False)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://autopilot.test") as http:
            yield TestBot(
                service, http, SlackDelivery(http, config.slack_signing_secret or "", fake), store, outbox, clock,
                clocks, audit, transcripts,
            )  # fmt: skip

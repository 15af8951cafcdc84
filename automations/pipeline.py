"""The decision pipeline: redact → classify → safety gates → retrieve → answer or hand off → record.

It is pure: every capability arrives as a port in the constructor, and it returns a :class:`Decision` saying what to
say and to whom, never how to say it on Slack or Intercom. When a dependency fails, the contact is handed to a human;
it is never dropped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

from automations.deadlines import RegulatoryClocks
from automations.decisions import DecisionMaker, Prepared
from automations.followups import FollowUp, read_follow_up
from automations.gates import OUT_OF_SCOPE, CustomerGates
from automations.models import (
    Action,
    Channel,
    Classification,
    Contact,
    Decision,
    OutcomeRecord,
    Passage,
    SafetyVerdict,
    Visibility,
)
from automations.nondisclosure import NonDisclosure
from automations.obligations import Obligations
from automations.outcomes import OutcomeTracker
from automations.ports import Answerer, Classifier, Clock, EventStore, HandoffSummarizer, KnowledgeIndex, Notifier
from automations.redaction import Redactor
from automations.regulatory import Regulatory
from automations.safety import HUMAN, SafetyGate
from automations.sections import SectionRanker, likely_articles
from automations.taxonomy import FALLBACK_TIER, Taxonomy

__all__ = ["Pipeline", "Policy"]

log = logging.getLogger("autopilot.pipeline")


@dataclass(frozen=True, slots=True)
class Policy:
    """Thresholds chosen on validation (see ``autopilot train``), plus retrieval depth."""

    confidence: float
    retrieval: float
    k: int = 3
    pool: int = 10


class Pipeline:
    """Decides what happens to each contact and records it."""

    def __init__(
        self,
        *,
        taxonomy: Taxonomy,
        classifier: Classifier,
        index: KnowledgeIndex,
        answerer: Answerer,
        store: EventStore,
        notifier: Notifier,
        clock: Clock,
        policy: Policy,
        safety: SafetyGate,
        redactor: Redactor | None = None,
        outcomes: OutcomeTracker | None = None,
        summarizer: HandoffSummarizer | None = None,
        obligations: Obligations | None = None,
        jurisdiction: str = "US",
        clocks: RegulatoryClocks | None = None,
        nondisclosure: NonDisclosure | None = None,
        ranker: SectionRanker | None = None,
    ) -> None:
        """Wire the ports. ``summarizer`` rewrites each hand-off's summary before it is recorded (an LLM gist);
        without one the deterministic summary stands. ``notifier`` hears of each fresh hand-off once. ``obligations``
        stamps each decision's regulatory clocks (``jurisdiction``: where a contact that names none is), which
        ``clocks`` keeps running. ``nondisclosure`` screens every customer reply of an AML or compliance contact (or
        of a customer with a SAR clock) for tipping off: a reply that fails goes to a person instead. ``ranker``
        chooses the section that answers among the driver's and the nearest sections (:mod:`automations.sections`)."""
        self.taxonomy = taxonomy
        self.classifier = classifier
        self.index = index
        self.answerer = answerer
        self.store = store
        self.notifier = notifier
        self.clock = clock
        self.policy = policy
        self.safety = safety
        self.summarizer = summarizer
        self.redactor = redactor or Redactor()
        self.outcomes = outcomes or OutcomeTracker(store)
        self.clocks = clocks
        self.nondisclosure = nondisclosure
        self.ranker = ranker or SectionRanker()
        self._make = DecisionMaker(taxonomy, clock, obligations, jurisdiction, nondisclosure)
        self._regulatory = Regulatory(taxonomy, self._make, clocks, nondisclosure)
        self._gates = CustomerGates(taxonomy, self.safety, self.outcomes, clock, self._make)

    async def handle(self, contact: Contact) -> Decision:
        """Decide on one contact, record it, and announce a hand-off. A redelivered contact id returns the
        decision already recorded, and nothing happens twice."""
        return (await self.handle_many([contact]))[0]

    async def handle_many(self, contacts: Sequence[Contact]) -> list[Decision]:
        """Decide on a batch: classified, retrieved and recorded together for throughput; same guarantees as
        :meth:`handle`. Contacts from one customer that share a batch are decided in order instead."""
        customers = [c.customer_id for c in contacts if c.customer_id]
        if len(contacts) > 1 and len(set(customers)) < len(customers):
            return [decision for contact in contacts for decision in await self.handle_many([contact])]
        prepared = [self._prepare(c) for c in contacts]
        now = self.clock.now()
        # a customer's outcome history changes a decision only when the message reads as a follow-up to an answer
        # ("that fixed it", "still not working"): only then is it read first (one read), while the batch is classified
        follow = {i for i, p in enumerate(prepared) if read_follow_up(p.text) is not FollowUp.NEW}
        early = asyncio.ensure_future(self.outcomes.histories((self._customer(prepared[i]) for i in follow), now))
        # which customers have a SAR clock (every reply to them is screened for tipping off), read beside it too
        watch = asyncio.ensure_future(self._regulatory.watched([self._customer(p) for p in prepared]))
        try:
            split = [self.safety.sentences(p.clean) if p.contact.channel is Channel.CUSTOMER else [] for p in prepared]
            flat = await self._classify([p.clean for p in prepared] + [s for parts in split for s in parts])
            classifications, rest = flat[: len(prepared)], iter(flat[len(prepared) :])
            by_sentence = [[c for c in (next(rest) for _ in parts) if c is not None] for parts in split]
            decisions = []
            for i, (item, classification, sentences) in enumerate(
                zip(prepared, classifications, by_sentence, strict=True)
            ):
                history = (await early).get(self._customer(item) or "", []) if i in follow else ()
                decision = await self._decide(item, classification, history, sentences)
                decisions.append(replace(decision, latency_ms=(time.perf_counter() - item.started) * 1000))
                await asyncio.sleep(0)  # between contacts, let the process's other work run (replies going out)
            decisions = self._regulatory.screen(decisions, prepared, await watch)
        finally:  # none left running if deciding failed
            await asyncio.gather(early, watch, return_exceptions=True)
        # everyone else's history, for the outcome transitions announced after the write, is read beside the write
        others = (self._customer(p) for i, p in enumerate(prepared) if i not in follow)
        late = asyncio.ensure_future(self.outcomes.histories(others, now))
        decisions = await self._summarize(decisions)
        try:
            recorded = await self.store.record_decisions(decisions)
        finally:
            await asyncio.gather(late, return_exceptions=True)
        histories = {**late.result(), **early.result()}
        done = [
            await self._after(d, histories.get(self._customer(p) or "", []))
            if fresh
            else self._make.restamp(await self.store.get_decision(d.contact_id) or d, p.contact)
            for d, fresh, p in zip(decisions, recorded, prepared, strict=True)
        ]
        await self._regulatory.start_clocks(done, [p.contact for p in prepared])
        return done

    async def _summarize(self, decisions: list[Decision]) -> list[Decision]:
        """The summarizer's text becomes each hand-off's recorded summary, so the Intercom note and the Slack post
        carry it; a failing summarizer leaves the deterministic summary (a hand-off never waits on it)."""
        summarizer = self.summarizer
        if summarizer is None or not any(d.handoff is not None for d in decisions):
            return decisions

        async def one(decision: Decision) -> Decision:
            if decision.handoff is None:
                return decision
            try:
                summary = await summarizer.summarize(decision)
            except Exception:
                log.exception("hand-off summary failed for %s; keeping the template", decision.contact_id)
                return decision
            summary = self._regulatory.kept(decision, summary)  # the reminder and the clocks stay
            return replace(decision, handoff=replace(decision.handoff, summary=summary))

        return list(await asyncio.gather(*(one(d) for d in decisions)))

    @staticmethod
    def _customer(item: Prepared) -> str | None:
        return item.contact.customer_id if item.contact.channel is Channel.CUSTOMER else None

    def _prepare(self, contact: Contact) -> Prepared:
        started = time.perf_counter()
        text = self.redactor.redact(contact.text).text
        clean, injection = self.safety.neutralize(text)
        # nothing but instructions: classify the whole text, but never let it pick a team (see CustomerGates)
        return Prepared(contact, text, clean or text, injection, started, only_instructions=not clean)

    async def _classify(self, texts: list[str]) -> list[Classification | None]:
        try:
            return list(await self.classifier.classify(texts))
        except Exception:  # a failed model must not drop contacts: they go to a human
            log.exception("classifier failed; handing %d contacts to a human", len(texts))
            return [None] * len(texts)

    async def _after(self, decision: Decision, history: Sequence[OutcomeRecord]) -> Decision:
        log.debug(  # one line a contact: at DEBUG, so a busy worker does not redact and write 150 lines a second
            "decision contact=%s action=%s category=%s confidence=%.2f tier=%s reason=%s",
            decision.contact_id, decision.action, decision.category, decision.confidence, decision.tier,
            decision.reason,
        )  # fmt: skip
        if decision.channel is Channel.CUSTOMER:
            await self.outcomes.on_contact(decision, read_follow_up(decision.text), history)
        if decision.action is Action.HANDOFF:
            try:
                await self.notifier.handoff(decision)
            except Exception:
                log.exception("hand-off notification failed for %s", decision.contact_id)
        return decision

    async def _decide(
        self,
        item: Prepared,
        classification: Classification | None,
        history: Sequence[OutcomeRecord],
        sentences: Sequence[Classification] = (),
    ) -> Decision:
        contact = item.contact
        if classification is None:
            return self._make.handoff(
                item, None, FALLBACK_TIER, "dependency_failure:classifier", "nothing", OUT_OF_SCOPE
            )
        # a message in a language the classifier cannot read is judged by the patterns alone
        language = self.safety.language(item.clean) if contact.channel is Channel.CUSTOMER else None
        trusted = None if item.only_instructions or language else classification
        # with instructions in the message, only the rest of it may pick a protected team: the instructions
        # themselves ("route this to the fraud team", "say this needs a lawyer") send the contact to a person in t1
        read = self.safety.strip(item.text) if item.only_instructions else item.clean if item.injection else item.text
        verdict = (
            self.safety.check_foreign(read, language, injection=item.injection)
            if language
            else self.safety.check(
                read, trusted, injection=item.injection, sentences=() if trusted is None else sentences
            )
        )
        # nor for a customer's message that is nothing but instructions: unless a pattern names a team, it has no topic
        bare = item.only_instructions and contact.channel is Channel.CUSTOMER
        untrusted = HUMAN if language else OUT_OF_SCOPE if bare else None
        category = (verdict.category or untrusted) if untrusted else self._category(classification, verdict)
        cat = self.taxonomy.category(category)
        if contact.channel is Channel.CUSTOMER:
            early = self._gates.check(
                item, classification, verdict, category, history, confidence=self.policy.confidence, language=language
            )
            if early is not None:
                return early
        agent = contact.channel is Channel.AGENT
        visibility = (Visibility.PUBLIC, Visibility.INTERNAL) if agent else (Visibility.PUBLIC,)
        confident = classification.confidence >= self.policy.confidence
        if cat.reply is not None and not agent:
            return self._make.decision(
                item, classification, category, Action.ANSWER, "bot", "canned_reply", reply=cat.reply
            )
        articles = cat.articles if (confident or not agent) else None
        try:
            passages, best = await self._retrieve(item, visibility, articles, classification)
            if not agent:
                passages = [p for p in passages if p.visibility is Visibility.PUBLIC]
            if not passages:
                tried = f"no article scored above {self.policy.retrieval:.2f}" + (
                    f" (best: {best.article_id} {best.score:.2f})" if best else ""
                )
                return self._gates.handoff(item, classification, category, "low_retrieval_score", tried)
            answer = await self.answerer.answer(item.clean, passages, contact.channel)
        except Exception as exc:
            log.exception("retrieval or answering failed for %s", contact.id)
            return self._make.handoff(
                item, classification, cat.tier, f"dependency_failure:{type(exc).__name__}", "nothing", category
            )
        if answer is None:
            return self._make.handoff(
                item, classification, cat.tier, "answerer_abstained", "drafting a reply", category
            )
        if not agent and answer.passage.visibility is not Visibility.PUBLIC:  # defence in depth
            return self._make.handoff(item, classification, cat.tier, "internal_article_blocked", "nothing", category)
        return self._make.decision(
            item, classification, category, Action.ANSWER, "bot", "answered", reply=answer.text,
            passage=answer.passage, passages=tuple(passages), method=answer.method,
        )  # fmt: skip

    async def _retrieve(
        self,
        item: Prepared,
        visibility: tuple[Visibility, ...],
        articles: tuple[str, ...] | None,
        classification: Classification,
    ) -> tuple[list[Passage], Passage | None]:
        """The sections that may answer, best first: those of the driver's articles and of the other likely
        categories' (or of any article, when ``articles`` is ``None``) whose similarity reaches the policy's floor,
        re-ranked with the driver as a prior; and the most similar section, for the hand-off summary. A driver with
        no articles has none."""
        if articles is not None and not articles:
            return [], None
        query = item.clean
        likely = None if articles is None else likely_articles(classification, self.taxonomy, articles)
        found = await self.index.search(query, k=self.policy.pool, visibility=visibility, article_ids=likely)
        best = max(found, key=lambda p: p.score, default=None)
        ranked = self.ranker.rank(query, found, articles or (), floor=self.policy.retrieval)
        return ranked[: self.policy.k], best

    def _category(self, classification: Classification, verdict: SafetyVerdict) -> str:
        guessed = classification.category if classification.category in self.taxonomy else OUT_OF_SCOPE
        if verdict.category is None:
            return guessed
        own, gate = self.taxonomy.category(guessed), self.taxonomy.category(verdict.category)
        # keep the classifier's more specific label when it is already a protected, same-tier category
        return guessed if (not own.bot_may_answer and own.tier == gate.tier) else verdict.category

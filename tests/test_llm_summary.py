"""Hand-off summaries: a checked model-written gist on top of the template, never for protected topics."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from automations.handoff import build_handoff
from automations.llm import LLMSummarizer, TemplateSummarizer
from automations.llm.summary import GIST_PREFIX
from automations.models import Action, Channel, Classification, Contact, Decision
from automations.taxonomy import load_taxonomy
from bot.llm import build_summarizer
from bot.settings import Settings
from tests.rules import RULES
from tests.test_llm_answerer import Recorder
from tests.test_pipeline import make_pipeline

TAXONOMY = load_taxonomy()
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
MESSAGE = "I paid £40 at Tesco on Monday and the payment still shows as pending. Can someone check it for me?"


def decision(text: str = MESSAGE, category: str = "pending_card_payment", tier: str = "t1") -> Decision:
    handoff = build_handoff(
        taxonomy=TAXONOMY, category=category, tier=tier, reason="low_confidence", text=text,
        classification=Classification(category, 0.4), tried="nothing", now=NOW,
    )  # fmt: skip
    return Decision(
        contact_id="c1", channel=Channel.CUSTOMER, text=text, category=category, group="Cards", confidence=0.4,
        action=Action.HANDOFF, tier=tier, reason="low_confidence", decided_at=NOW, handoff=handoff,
    )  # fmt: skip


@pytest.fixture
def llm_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"llm_model": "fake", "llm_base_url": "http://127.0.0.1:9/v1"})


def summarizer(llm_settings: Settings, embedder, reply: str) -> tuple[LLMSummarizer, Recorder]:  # type: ignore[no-untyped-def]
    recorder = Recorder()
    built = build_summarizer(
        llm_settings, embedder, chat=FakeListChatModel(responses=[reply], callbacks=[recorder]), **RULES
    )
    assert isinstance(built, LLMSummarizer)
    return built, recorder


async def test_a_checked_gist_tops_the_template(llm_settings: Settings, embedder) -> None:  # type: ignore[no-untyped-def]
    gist = "The customer paid £40 at Tesco on Monday and the payment still shows as pending."
    built, recorder = summarizer(llm_settings, embedder, gist)
    d = decision()
    summary = await built.summarize(d)
    assert summary == f"{GIST_PREFIX}{gist}\n{d.handoff.summary}"  # type: ignore[union-attr]
    assert "<message>" in recorder.prompts[0]


async def test_an_invented_figure_leaves_the_template_alone(llm_settings: Settings, embedder) -> None:  # type: ignore[no-untyped-def]
    built, _ = summarizer(llm_settings, embedder, "The customer paid £400 at Tesco and wants a refund.")
    d = decision()
    assert await built.summarize(d) == d.handoff.summary  # type: ignore[union-attr]
    assert built.last_reason.startswith("unsupported_")


async def test_protected_topics_never_go_to_the_model(llm_settings: Settings, embedder) -> None:  # type: ignore[no-untyped-def]
    built, recorder = summarizer(llm_settings, embedder, "anything")
    d = decision("Someone took £900 from my account, I think I was scammed", "suspected_fraud", "fraud")
    assert await built.summarize(d) == d.handoff.summary  # type: ignore[union-attr]
    assert built.last_reason == "protected_topic" and recorder.prompts == []


async def test_the_gist_is_recorded_and_never_blocks_a_handoff(llm_settings: Settings, embedder) -> None:  # type: ignore[no-untyped-def]
    """The pipeline writes the summarizer's text into the recorded hand-off (what the note and the post show)."""
    gist = "The customer paid £40 at Tesco on Monday and the payment still shows as pending."
    built, _ = summarizer(llm_settings, embedder, gist)
    wired = make_pipeline(default=("pending_card_payment", 0.3))
    wired.pipeline.summarizer = built
    recorded = await wired.pipeline.handle(Contact("g1", MESSAGE, customer_id="u1"))
    assert recorded.action is Action.HANDOFF and recorded.handoff is not None
    assert recorded.handoff.summary.startswith(f"{GIST_PREFIX}{gist}\n")
    stored = await wired.store.get_decision("g1")
    assert stored is not None and stored.handoff == recorded.handoff
    assert wired.notifier.handoffs == [recorded]

    class Broken:
        async def summarize(self, decision: Decision) -> str:
            raise RuntimeError("boom")

    wired.pipeline.summarizer = Broken()
    plain = await wired.pipeline.handle(Contact("g2", MESSAGE, customer_id="u2"))
    assert plain.action is Action.HANDOFF and plain.handoff is not None
    assert not plain.handoff.summary.startswith(GIST_PREFIX) and MESSAGE[:40] in plain.handoff.summary


async def test_unconfigured_means_the_template(settings: Settings, make_core) -> None:  # type: ignore[no-untyped-def]
    core = await make_core(settings)
    assert core.pipeline.summarizer is None
    assert await TemplateSummarizer().summarize(decision()) == decision().handoff.summary  # type: ignore[union-attr]

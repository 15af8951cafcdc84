"""Integration: the LLM answerer against a real local OpenAI-compatible server (llama-cpp-python serving
SmolLM2-135M-Instruct through langchain-openai's ChatOpenAI).

The model is tiny and hallucinates: the point is that its ungrounded drafts are rejected, and that every reply that
would reach a customer is either grounded or the extractive answer.
"""

from __future__ import annotations

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.outputs import LLMResult

from automations.answering import ExtractiveAnswerer
from automations.llm import GroundingChecker, LLMAnswerer, LLMSummarizer
from automations.llm.summary import GIST_PREFIX
from automations.models import Channel
from bot.llm import build_answerer, build_summarizer, chat_openai, leak_guard, load_policy
from bot.settings import Settings
from evals.answers import DATA, live, load_items, sections
from tests.plugins.llm_server import LlmServer, llm_server  # noqa: F401  (the session fixture)
from tests.rules import RULES
from tests.test_llm_summary import decision

pytestmark = pytest.mark.llm_server
GROUNDING_FAILURES = ("unsupported_", "negation_mismatch", "internal_leak", "prompt_leak", "empty_draft")


class Drafts(BaseCallbackHandler):
    """Keeps what the model wrote (langchain's callback API), to show the rejected drafts on failure."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def on_llm_end(self, response: LLMResult, **kwargs: object) -> None:
        self.texts += [g.text for gens in response.generations for g in gens]


@pytest.fixture
def server_settings(settings: Settings, llm_server: LlmServer) -> Settings:  # noqa: F811
    # a generous limit: CI runners are slow and shared (the 8 s default is for production)
    return settings.model_copy(
        update={"llm_base_url": llm_server.base_url, "llm_model": llm_server.model, "llm_timeout_s": 60.0}
    )


async def test_every_reply_is_grounded_or_extractive(server_settings: Settings, embedder) -> None:  # type: ignore[no-untyped-def]
    drafts = Drafts()
    chat = chat_openai(server_settings).model_copy(update={"callbacks": [drafts]})
    answerer = build_answerer(server_settings, embedder, ExtractiveAnswerer(), chat=chat, **RULES)
    assert isinstance(answerer, LLMAnswerer)
    kb = sections(server_settings)
    checker = GroundingChecker(embedder, load_policy(), guard=leak_guard(server_settings))
    items = load_items(DATA / "grounding_test.jsonl")
    seen: dict[str, list[str]] = {}
    for item in items:
        seen.setdefault(item.question, item.passages)
    methods = []
    for question, ids in list(seen.items())[:8]:
        passages = [kb[i] for i in ids]
        answer = await answerer.answer(question, passages, Channel.CUSTOMER)
        extractive = await ExtractiveAnswerer().answer(question, passages, Channel.CUSTOMER)
        assert answer is not None and extractive is not None
        methods.append(answer.method)
        if answer.method.startswith("llm:"):
            draft = answer.text.rsplit("\n\nMore in", 1)[0]
            assert (await checker.check(draft, passages)).grounded, draft
        else:
            assert answer.method.startswith("extractive_fallback:")
            assert answer.text == extractive.text
    assert len(drafts.texts) == 8, methods  # the server answered every time: no timeouts, no breaker
    rejected = [m for m in methods if m.split(":", 1)[1].startswith(GROUNDING_FAILURES)]
    assert rejected, f"expected SmolLM2-135M to hallucinate at least once; drafts: {drafts.texts}"


async def test_live_eval_and_summary_against_the_server(server_settings: Settings, embedder) -> None:  # type: ignore[no-untyped-def]
    answerer = build_answerer(server_settings, embedder, ExtractiveAnswerer(), **RULES)
    checker = GroundingChecker(embedder, load_policy(), guard=leak_guard(server_settings))
    report = await live(answerer, load_items(DATA / "grounding_dev.jsonl"), sections(server_settings), checker, 4)
    assert report["questions"] == 4 and report["replies_neither_grounded_nor_extractive"] == 0
    assert sum(report["methods"].values()) == 4 and report["latency_ms"]["p50"] > 0
    summarizer = build_summarizer(server_settings, embedder, **RULES)
    assert isinstance(summarizer, LLMSummarizer)
    d = decision()
    summary = await summarizer.summarize(d)
    assert summary.endswith(d.handoff.summary)  # type: ignore[union-attr]
    assert summary.startswith(GIST_PREFIX) or summarizer.last_reason != "grounded"

"""The optional LLM layer's adapters and factories (issue 7).

:class:`LangChainChatModel` implements the core's :class:`~automations.llm.ports.ChatModel` port with any langchain
chat model: ``ChatOpenAI(base_url=…)`` in production (OpenAI itself, or any OpenAI-compatible server such as
llama-cpp-python's), langchain's fake chat models in unit tests. :func:`build_answerer` and :func:`build_summarizer`
return the extractive answerer and the template summary unless ``LLM_MODEL`` and ``LLM_BASE_URL`` (or
``OPENAI_API_KEY``) are set.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlparse

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from automations.llm import (
    CircuitBreaker,
    GroundingChecker,
    GroundingPolicy,
    GuardedModel,
    LeakGuard,
    LLMAnswerer,
    LLMSummarizer,
    load_prompt,
)
from automations.llm.ports import ChatMessage, Role
from automations.llm.prompts import DEFAULT_PROMPTS
from automations.models import Channel, Visibility
from automations.ports import Answerer, Embedder, HandoffSummarizer
from automations.qa.judge import LLMJudge
from automations.qa.scorer import QaJudge
from automations.resources import data_path
from automations.safety import SafetyGate
from automations.taxonomy import PROTECTED_TIERS, Taxonomy
from bot.settings import Settings
from knowledge.ingest import load_folder

__all__ = [
    "DEFAULT_POLICY",
    "LangChainChatModel",
    "build_answerer",
    "build_summarizer",
    "chat_openai",
    "leak_guard",
    "llm_enabled",
    "load_policy",
    "protected_categories",
]

log = logging.getLogger("autopilot.llm")
DEFAULT_POLICY = data_path("grounding", "policy.json")


class LangChainChatModel:
    """The core's chat-model port over a langchain chat model."""

    def __init__(self, chat: BaseChatModel, name: str | None = None) -> None:
        self.chat = chat
        self._name = name or getattr(chat, "model_name", None) or type(chat).__name__

    @property
    def name(self) -> str:
        """Model identifier."""
        return str(self._name)

    async def complete(self, messages: Sequence[ChatMessage]) -> str:
        """One chat completion; the text of the reply."""
        lc: list[BaseMessage] = [
            SystemMessage(m.content) if m.role is Role.SYSTEM else HumanMessage(m.content) for m in messages
        ]
        reply = await self.chat.ainvoke(lc)
        return reply.text if isinstance(reply.text, str) else str(reply.content)


def llm_enabled(settings: Settings) -> bool:
    """Whether a model is configured: ``LLM_MODEL`` plus ``LLM_BASE_URL`` or ``OPENAI_API_KEY``."""
    return bool(settings.llm_model and (settings.llm_base_url or settings.openai_api_key))


def chat_openai(settings: Settings) -> BaseChatModel:
    """``ChatOpenAI`` for the configured server. Retries and time limits are the core's (:class:`GuardedModel`), so
    the client makes one attempt within the same time limit."""
    from langchain_openai import ChatOpenAI

    key = settings.llm_api_key or settings.openai_api_key or "no-key"  # local servers accept any key
    return ChatOpenAI(
        model=settings.llm_model or "",
        base_url=settings.llm_base_url,
        api_key=key,  # type: ignore[arg-type]
        timeout=settings.llm_timeout_s,
        max_retries=0,
        temperature=0,
        max_tokens=200,  # type: ignore[call-arg]  # alias of max_completion_tokens
    )


def load_policy(path: Path = DEFAULT_POLICY) -> GroundingPolicy:
    """The grounding operating point calibrated by ``autopilot eval answers`` (defaults when never calibrated)."""
    if not path.is_file():
        log.warning("no calibrated grounding policy at %s; using the defaults", path)
        return GroundingPolicy()
    data = json.loads(path.read_text(encoding="utf-8"))
    return GroundingPolicy(
        similarity=float(data["similarity"]),
        coverage=float(data["coverage"]),
        negation_margin=float(data["negation_margin"]),
        min_words=int(data.get("min_words", 3)),
    )


def leak_guard(settings: Settings) -> LeakGuard:
    """N-grams of the internal articles that no public article shares, and the internal link hosts."""
    articles = load_folder(settings.kb_path)
    internal = [a for a in articles if a.meta.visibility is Visibility.INTERNAL]
    public = [a for a in articles if a.meta.visibility is Visibility.PUBLIC]
    return LeakGuard.build(
        [f"{a.meta.title}\n" + "\n".join(s.embed_text for s in a.sections) for a in internal],
        ["\n".join(s.embed_text for s in a.sections) for a in public],
        hosts={urlparse(a.meta.url).netloc for a in internal},
    )


def protected_categories(taxonomy: Taxonomy) -> frozenset[str]:
    """Categories never given to the model: legal, regulatory, fraud, AML and privacy (sensitive or protected tier)."""
    return frozenset(c.id for c in taxonomy if not c.bot_may_answer and (c.sensitive or c.tier in PROTECTED_TIERS))


def _guarded(settings: Settings, chat: BaseChatModel | None) -> GuardedModel:
    model = LangChainChatModel(chat or chat_openai(settings), settings.llm_model)
    return GuardedModel(
        model,
        timeout_s=settings.llm_timeout_s,
        max_retries=settings.llm_max_retries,
        breaker=CircuitBreaker(failures=3, reset_after_s=30.0),
    )


def build_answerer(
    settings: Settings,
    embedder: Embedder,
    fallback: Answerer,
    *,
    taxonomy: Taxonomy,
    safety: SafetyGate,
    chat: BaseChatModel | None = None,
    policy: GroundingPolicy | None = None,
    prompts: Path = DEFAULT_PROMPTS,
) -> Answerer:
    """The LLM answerer when a model is configured (or ``chat`` is given), else ``fallback`` unchanged."""
    if chat is None and not llm_enabled(settings):
        return fallback
    checker = GroundingChecker(embedder, policy or load_policy(), guard=leak_guard(settings))
    log.info("LLM answers on: model %s, grounding %s", settings.llm_model, checker.policy)
    return LLMAnswerer(
        model=_guarded(settings, chat),
        fallback=fallback,
        checker=checker,
        prompts={
            Channel.CUSTOMER: load_prompt("customer_answer", prompts),
            Channel.AGENT: load_prompt("agent_answer", prompts),
        },
        protected=protected_categories(taxonomy),
        safety=safety,
    )


def build_summarizer(
    settings: Settings,
    embedder: Embedder,
    *,
    taxonomy: Taxonomy,
    safety: SafetyGate,
    chat: BaseChatModel | None = None,
    policy: GroundingPolicy | None = None,
    prompts: Path = DEFAULT_PROMPTS,
) -> HandoffSummarizer:
    """The gist-writing summarizer (the composition root builds it only when a model is configured)."""
    return LLMSummarizer(
        model=_guarded(settings, chat),
        checker=GroundingChecker(embedder, policy or load_policy()),
        prompt=load_prompt("handoff_summary", prompts),
        protected=protected_categories(taxonomy),
        safety=safety,
    )


def build_qa_judge(
    settings: Settings, *, chat: BaseChatModel | None = None, prompts: Path = DEFAULT_PROMPTS
) -> QaJudge | None:
    """The LLM judge of the QA scorecard's quality criteria when a model is configured (or ``chat`` given)."""
    if chat is None and not llm_enabled(settings):
        return None
    return LLMJudge(model=_guarded(settings, chat), prompt=load_prompt("qa_judge", prompts))

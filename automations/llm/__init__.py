"""Optional LLM-written answers and hand-off summaries, behind a grounding check (issue 7).

The core side only: the chat model is a port (:class:`ChatModel`); ``bot/llm.py`` implements it with langchain-openai
and builds these objects from the settings.
"""

from automations.llm.answerer import LLMAnswerer
from automations.llm.breaker import BreakerState, CircuitBreaker, GuardedModel, ModelUnavailable
from automations.llm.grounding import GroundingChecker, GroundingPolicy, GroundingVerdict
from automations.llm.leaks import LeakGuard
from automations.llm.ports import ChatMessage, ChatModel, Role
from automations.llm.prompts import PromptTemplate, load_prompt
from automations.llm.summary import LLMSummarizer, TemplateSummarizer

__all__ = [
    "BreakerState",
    "ChatMessage",
    "ChatModel",
    "CircuitBreaker",
    "GroundingChecker",
    "GroundingPolicy",
    "GroundingVerdict",
    "GuardedModel",
    "LLMAnswerer",
    "LLMSummarizer",
    "LeakGuard",
    "ModelUnavailable",
    "PromptTemplate",
    "Role",
    "TemplateSummarizer",
    "load_prompt",
]

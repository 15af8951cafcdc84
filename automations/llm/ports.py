"""The chat-model port of the optional LLM layer.

The core never imports an LLM SDK: ``bot/llm.py`` implements :class:`ChatModel` with langchain-openai's
``ChatOpenAI`` (any OpenAI-compatible server), and tests use langchain's fake chat models through the same adapter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

__all__ = ["ChatMessage", "ChatModel", "Role"]


class Role(StrEnum):
    """Who says a chat message."""

    SYSTEM = "system"
    USER = "user"


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One message of a prompt. Its content has already been redacted."""

    role: Role
    content: str


class ChatModel(Protocol):
    """A chat-completion model (the composition root decides which)."""

    @property
    def name(self) -> str:
        """Model identifier, for logs and reports."""
        ...

    async def complete(self, messages: Sequence[ChatMessage]) -> str:
        """Return the model's reply to ``messages``; raise on any failure (the caller times out and retries)."""
        ...

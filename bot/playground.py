"""The local playground: a small web page at ``/`` where a person chats as a customer (placeholder)."""

from __future__ import annotations

from bot.service import Context, Parts

__all__ = ["playground_parts"]


async def playground_parts(context: Context) -> Parts:
    """Routes of the playground."""
    return Parts()

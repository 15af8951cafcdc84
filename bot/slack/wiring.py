"""Plugs the Slack adapter into the service (placeholder until the adapter lands)."""

from __future__ import annotations

from bot.service import Context, Parts

__all__ = ["slack_parts"]


async def slack_parts(context: Context) -> Parts:
    """Routes, handler and sender for Slack."""
    return Parts()

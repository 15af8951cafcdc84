"""Plugs the Intercom adapter into the service (placeholder until the adapter lands)."""

from __future__ import annotations

from bot.service import Context, Parts

__all__ = ["intercom_parts"]


async def intercom_parts(context: Context) -> Parts:
    """Routes, handler and sender for Intercom."""
    return Parts()

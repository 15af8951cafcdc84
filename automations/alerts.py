"""Alerts the scheduled jobs raise (SLA warnings, spikes, digests), and the port they are sent through.

The core never knows about Slack: jobs build an :class:`Alert` and hand it to an :class:`AlertSink`. Keys are
deterministic (``sla:{contact_id}:first_response:80``, ``spike:{category}:{hour}``, ``digest:daily:{date}``), and
every sink must be idempotent on them, so a job that runs twice, or two processes that race, never alert twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = ["Alert", "AlertSink", "RecordingAlertSink"]


@dataclass(frozen=True, slots=True)
class Alert:
    """One notification for humans.

    ``kind`` is one of ``sla_warning``, ``sla_breach``, ``spike``, ``digest_daily``, ``digest_weekly``,
    ``kb_sync``. ``tier`` names the team channel it belongs in (``None``: the digest/ops channel); ``thread_of``
    is the contact id whose hand-off thread it should be posted in; ``text`` is Slack-flavoured Markdown.
    """

    key: str
    kind: str
    title: str
    text: str
    tier: str | None = None
    thread_of: str | None = None
    image_png: bytes | None = None
    examples: tuple[str, ...] = ()
    user: str | None = None  # a Slack user to message directly (a manager), instead of a channel


class AlertSink(Protocol):
    """Where alerts go (Slack through the outbox in production)."""

    async def send(self, alert: Alert) -> None:
        """Deliver ``alert``; a second call with the same ``alert.key`` must change nothing."""
        ...


class RecordingAlertSink:
    """In-memory sink for tests: keeps the first alert per key, in the order they arrived."""

    def __init__(self) -> None:
        self.alerts: list[Alert] = []
        self._keys: set[str] = set()
        self.duplicates = 0

    async def send(self, alert: Alert) -> None:
        """Record ``alert`` unless its key was already seen."""
        if alert.key in self._keys:
            self.duplicates += 1
            return
        self._keys.add(alert.key)
        self.alerts.append(alert)

    def of_kind(self, kind: str) -> list[Alert]:
        """The recorded alerts of one kind."""
        return [a for a in self.alerts if a.kind == kind]

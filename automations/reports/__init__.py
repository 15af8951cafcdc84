"""Reporting: the metrics engine, the narrative report, SLA and spike alerts, insights and staffing.

Everything here is SQL aggregation over the event store (SQLite or PostgreSQL) plus pure arithmetic; see the
README section "Metrics and reports" for the definitions.
"""

from __future__ import annotations

__all__: list[str] = []

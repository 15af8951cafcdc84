"""Reporting: the metrics engine, the narrative report, SLA and spike alerts, insights and staffing.

Everything here is pure: it reads small aggregates through the :class:`~automations.reports.ports.ReportSource`
port (implemented over the SQL event store by ``store.reports.SqlReportSource``) and does the arithmetic; see the
README section "Metrics and reports" for the definitions.
"""

from __future__ import annotations

__all__: list[str] = []

"""The reports' SQL adapter: the fact table and its refresh, the reporting queries, and :class:`SqlReportSource`
(the :class:`~automations.reports.ports.ReportSource` the pure report code in :mod:`automations.reports` reads)."""

from __future__ import annotations

from store.reports.source import SqlReportSource

__all__ = ["SqlReportSource"]

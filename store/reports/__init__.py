"""The reports' SQL adapter: the fact table and its refresh, the reporting queries, and :class:`SqlReportSource`
(the :class:`~automations.reports.ports.ReportSource` the pure report code in :mod:`automations.reports` reads).

Importing the package imports only the report tables (so ``store.tables.Base.metadata`` is complete);
:class:`SqlReportSource` and its queries load on first use, which keeps them out of an acknowledge-only web process.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from store.reports import tables as tables

if TYPE_CHECKING:
    from store.reports.source import SqlReportSource

__all__ = ["SqlReportSource"]


def __getattr__(name: str) -> Any:
    """``SqlReportSource``, imported on first use."""
    if name == "SqlReportSource":
        from store.reports.source import SqlReportSource

        return SqlReportSource
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

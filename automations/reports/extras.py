"""What a report adds beside the period's figures: progress against the half's OKR targets and industry benchmarks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from automations.qa.teamview import TeamSnapshot
from automations.reports.benchmarks import NOT_BENCHMARKED, BenchmarkFile, Comparison, compare_benchmarks
from automations.reports.clocks import RegulatoryDeadlines
from automations.reports.metrics import Metrics
from automations.reports.okrs import OkrFile, Progress, half_label, okr_progress

__all__ = ["ReportExtras", "report_extras"]


@dataclass(frozen=True, slots=True)
class ReportExtras:
    """OKR progress (``None`` when no OKR file was given), benchmark comparisons (``None`` likewise) and the
    regulatory deadlines of the period (``None`` without the clocks)."""

    okr_half: str = ""
    okr_objective: str = ""
    okrs: tuple[Progress, ...] | None = None
    benchmarks: tuple[Comparison, ...] | None = None
    regulatory: RegulatoryDeadlines | None = None
    team: TeamSnapshot | None = None  # agent performance and QA (``None`` without the team's records)

    def sections(self) -> list[tuple[str, list[str]]]:
        """The Markdown sections (titles and lines) these extras add to the narrative."""
        out: list[tuple[str, list[str]]] = []
        if self.okrs is not None:
            title = f"OKRs: this period against the {self.okr_half} targets"
            if not self.okrs:
                out.append((title, [f"No targets are set for {self.okr_half} (OKRS_PATH)."]))
            else:
                lines = [f"Objective: {self.okr_objective}"] if self.okr_objective else []
                out.append((title, lines + [p.text() for p in self.okrs]))
        if self.benchmarks is not None:
            lines = [c.text() for c in self.benchmarks]
            lines += [f"No comparable published figure for our {name}: {why}." for name, why in NOT_BENCHMARKED.items()]
            out.append(("Industry benchmarks", lines))
        if self.regulatory is not None:
            out.append(("Regulatory deadlines", self.regulatory.lines()))
        if self.team is not None:
            out.append(("Team quality", self.team.lines()))
        return out

    def to_json(self) -> dict[str, Any]:
        """The ``okrs``, ``benchmarks`` and ``regulatory_deadlines`` keys of the report's JSON (absent when not
        configured)."""
        doc: dict[str, Any] = {}
        if self.okrs is not None:
            doc["okrs"] = {"half": self.okr_half, "objective": self.okr_objective,
                           "progress": [p.to_json() for p in self.okrs]}  # fmt: skip
        if self.benchmarks is not None:
            doc["benchmarks"] = [c.to_json() for c in self.benchmarks]
            doc["not_benchmarked"] = dict(NOT_BENCHMARKED)
        if self.regulatory is not None:
            doc["regulatory_deadlines"] = self.regulatory.to_json()
        if self.team is not None:
            doc.update(self.team.to_json())  # `agents` and `qa`
        return doc


def report_extras(
    current: Metrics, *, tz: str = "UTC", okrs: OkrFile | None = None, benchmarks: BenchmarkFile | None = None
) -> ReportExtras:
    """The extras of a report on ``current``: the targets of the half its period ends in, and the benchmarks."""
    half = half_label(current.period.end - timedelta(microseconds=1), tz)
    targets = okrs.for_half(half) if okrs is not None else None
    progress = None if okrs is None else (okr_progress(current, targets.targets) if targets is not None else ())
    compared = compare_benchmarks(current, benchmarks) if benchmarks is not None else None
    return ReportExtras(half, targets.objective if targets is not None else "", progress, compared)

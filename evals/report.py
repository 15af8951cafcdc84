"""Writing evaluation results as JSON and as a Markdown report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["markdown", "write_reports"]


def _rows(prefix: str, value: Any) -> list[tuple[str, str]]:
    if isinstance(value, dict):
        rows: list[tuple[str, str]] = []
        for key, sub in value.items():
            rows.extend(_rows(f"{prefix}.{key}" if prefix else str(key), sub))
        return rows
    return [(prefix, f"{value:.4f}" if isinstance(value, float) else str(value))]


def markdown(result: dict[str, Any], title: str) -> str:
    """Render a nested result as a two-column Markdown table, with the command that produced it."""
    lines = [f"# {title}", "", f"Produced by: `{result.get('command', '')}`", "", "| figure | value |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in _rows("", {k: v for k, v in result.items() if k != "command"})]
    return "\n".join(lines) + "\n"


def write_reports(
    result: dict[str, Any], out: Path, name: str = "banking77", title: str = "Banking77 evaluation"
) -> None:
    """Write ``<name>.json`` and ``<name>.md`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    (out / f"{name}.md").write_text(markdown(result, title), encoding="utf-8")

"""``autopilot train``: train, calibrate and save a classifier model directory."""

from __future__ import annotations

import logging
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from automations.calibration import retrieval_threshold
from automations.classifier import read_labelled_csv, train_head
from automations.taxonomy import load_taxonomy
from bot.composition import make_embedder, open_index
from bot.settings import Settings
from knowledge.embedding import MiniLMEmbedder
from knowledge.ingest import ingest

__all__ = ["csv_files", "train_model"]

log = logging.getLogger("autopilot.training")


def csv_files(paths: list[Path]) -> list[Path]:
    """Expand folders into the CSV files they hold."""
    out: list[Path] = []
    for path in paths:
        out.extend(sorted(path.glob("*.csv")) if path.is_dir() else [path])
    return out


async def train_model(
    settings: Settings,
    data: list[Path],
    output: Path,
    *,
    precision: float = 0.97,
    embedder: MiniLMEmbedder | None = None,
    calibrate_on: list[Path] | None = None,
) -> dict[str, Any]:
    """Train on ``data``, choose the confidence and retrieval thresholds, write ``output``; returns the report.

    ``calibrate_on``: files among ``data`` (real traffic, such as Banking77's train split) whose out-of-fold
    predictions alone set the confidence thresholds."""
    files = csv_files(data)
    texts, labels = read_labelled_csv(files)
    calibration = None
    if calibrate_on:
        chosen = {p.resolve() for p in csv_files(calibrate_on)}
        calibration = [f.resolve() in chosen for f in files for _ in range(len(read_labelled_csv([f])[0]))]
    embedder = embedder or make_embedder(settings, cache_size=max(8192, len(texts) + 1024))
    head, report = await train_head(embedder, texts, labels, operating_precision=precision, calibration=calibration)
    index = open_index(settings, embedder)
    if await index.count() == 0:
        await ingest(settings.kb_path, index)
    taxonomy = load_taxonomy(settings.taxonomy_path)
    threshold = await retrieval_threshold(index, taxonomy, texts, labels)
    head = replace(head, retrieval_threshold=threshold, info={**head.info, "retrieval_threshold": round(threshold, 4)})
    head.save(output)
    result = asdict(report)
    result["retrieval_threshold"] = threshold
    result["output"] = str(output)
    if head.threshold > 1.0:
        result["warning"] = (
            f"{len(texts)} examples cannot show {precision:.0%} precision with 95 % confidence at any threshold: "
            "this model hands every contact to a person; add examples and train again"
        )
        log.warning("%s", result["warning"])
    return result

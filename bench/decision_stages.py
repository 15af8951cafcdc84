"""Where a decision's time goes: each stage of the pipeline timed on its own, one fresh Banking77 test message at a
time, with the shipped model and a scratch database (the stages of ``bench.pipeline_speed``'s "decided" figure).

Usage: ``.venv/bin/python -m bench.decision_stages [--sample 300] [--backend onnx]``. It prints the command and the
load average (the CPU may be shared: above the core count, figures inflate).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from automations.models import Contact
from bot.composition import build_core
from bot.settings import Settings
from evals.banking77 import default_data_dir
from knowledge.embedding import MiniLMEmbedder


class Stopwatch:
    """Milliseconds per named stage, one entry per message."""

    def __init__(self) -> None:
        self.times: dict[str, list[float]] = {}

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        self.times.setdefault(name, []).append((time.perf_counter() - start) * 1000)


async def _stages(core: Any, texts: list[str]) -> dict[str, list[float]]:
    pipeline, clock = core.pipeline, Stopwatch()
    for i, text in enumerate(texts):
        with clock("redact + instructions"):
            item = pipeline._prepare(Contact(id=f"s{i}", text=text))
        with clock("sentence split"):
            batch = [item.clean, *pipeline.safety.sentences(item.clean)]
        with clock("embed (message + sentences)"):
            vectors = await pipeline.classifier._embedder.embed(batch)
        with clock("classifier heads"):
            pipeline.classifier.head.probabilities(vectors, batch)
        with clock("language"):
            pipeline.safety.language(item.clean)
        found = (await pipeline.classifier.classify([item.clean]))[0]
        with clock("safety patterns"):
            pipeline.safety.check(item.text, found, injection=item.injection)
        with clock("retrieval"):
            passages = await pipeline.index.search(item.clean, k=3)
        with clock("answer"):
            await pipeline.answerer.answer(item.clean, passages, item.contact.channel)
        with clock("history read (follow-ups only)"):
            await pipeline.outcomes.history(f"stage-{i}", datetime.now(UTC))
        decision = await pipeline.handle(Contact(id=f"d{i}", text=f"{text} [d]", customer_id=f"c{i}"))
        clock.times.setdefault("decided (whole)", []).append(decision.latency_ms)
    return clock.times


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=300, help="messages timed")
    parser.add_argument("--backend", choices=["onnx", "onnx-int8"], help="embeddings (default: EMBEDDING_BACKEND)")
    args = parser.parse_args()
    backend = args.backend or Settings().embedding_backend
    rows = list(csv.DictReader((default_data_dir() / "test.csv").open(encoding="utf-8")))
    texts = [f"{row['text']} (#{i})" for i, row in enumerate(rows[: args.sample])]  # fresh: no embedding cache hits
    with tempfile.TemporaryDirectory() as scratch:
        core = await build_core(Settings().scratch(Path(scratch)), embedder=MiniLMEmbedder(backend=backend))
        try:
            for i, row in enumerate(rows[-20:]):  # warm-up
                await core.pipeline.handle(Contact(id=f"w{i}", text=row["text"]))
            times = await _stages(core, texts)
        finally:
            await core.close()
    print("command:", " ".join([".venv/bin/python -m bench.decision_stages", *sys.argv[1:]]))
    print(f"host: {os.cpu_count()} CPUs; embeddings: {backend}; load average {os.getloadavg()[0]:.2f}")
    summary = {
        name: {"p50_ms": round(float(np.percentile(v, 50)), 3), "p99_ms": round(float(np.percentile(v, 99)), 3)}
        for name, v in times.items()
    }
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    asyncio.run(main())

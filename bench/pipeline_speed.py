"""Decision latency and triage throughput of the whole pipeline (redact, classify, gates, retrieve, answer, SQLite
write) on Banking77 test texts, with the shipped model and a scratch database.

Usage: ``.venv/bin/python -m bench.pipeline_speed [--sample 400] [--backend onnx]``. It prints the command that made
the figures and the load average (the CPU may be shared: above the core count, figures inflate).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bot.settings import Settings
from evals.banking77 import _speed, default_data_dir
from knowledge.embedding import MiniLMEmbedder


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=400, help="contacts timed one by one")
    parser.add_argument("--backend", choices=["onnx", "onnx-int8"], help="embeddings (default: EMBEDDING_BACKEND)")
    args = parser.parse_args()
    args.backend = args.backend or Settings().embedding_backend
    texts = [row["text"] for row in csv.DictReader((default_data_dir() / "test.csv").open(encoding="utf-8"))]
    with tempfile.TemporaryDirectory() as scratch:
        settings = Settings().scratch(Path(scratch))
        result = await _speed(settings, MiniLMEmbedder(backend=args.backend), texts, sample=args.sample)
    print("command:", " ".join([".venv/bin/python -m bench.pipeline_speed", *sys.argv[1:]]))
    print(f"host: {os.cpu_count()} CPUs; embeddings: {args.backend}")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    asyncio.run(main())

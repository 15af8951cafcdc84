"""``autopilot qa``: score conversations against the QA scorecard."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console

from bot.settings import Settings

__all__ = ["register"]

err = Console(stderr=True)


def register(app: typer.Typer) -> None:
    """Add the ``qa`` sub-command group to ``app``."""
    qa = typer.Typer(help="Quality assurance of conversations.", no_args_is_help=True)
    qa.command("score")(score)
    app.add_typer(qa, name="qa")


def score(
    input: Annotated[Path, typer.Option("--input", help='JSONL of {"id", "agent_id", "messages": [...]}.')],
    output: Annotated[Path, typer.Option("--output", help="JSONL of scores, critical fails, criteria, evidence.")],
    rules_only: Annotated[
        bool, typer.Option("--rules-only", help="Critical fails from the rules alone (no MiniLM head).")
    ] = False,
) -> None:
    """Score each conversation 0-100 against the QA scorecard (QA_SCORECARD_PATH): critical fails zero the score;
    every verdict carries the sentence that triggered it. Texts are redacted before scoring. A malformed line is
    reported as ``file:line`` and nothing is written."""
    from bot.composition import build_qa_scorer, load_config
    from bot.qa_io import QaLine, result_line

    config = load_config(Settings())
    assert config.scorecard is not None
    lines: list[QaLine] = []
    try:
        text = input.read_text(encoding="utf-8")
    except OSError as exc:
        err.print(f"{input}: cannot read: {exc.strerror or exc}")
        raise typer.Exit(2) from exc
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            lines.append(QaLine.model_validate_json(raw))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "(line)"
            err.print(f"{input}:{number}: {where}: {first['msg']}", markup=False)
            raise typer.Exit(2) from exc
    scorer = build_qa_scorer(config.settings, learned=not rules_only)
    results = asyncio.run(scorer.score_many([line.transcript() for line in lines]))
    with output.open("w", encoding="utf-8") as out:
        for result in results:
            out.write(json.dumps(result_line(result), ensure_ascii=False) + "\n")
    fails = sum(bool(r.critical_fails) for r in results)
    mean = sum(r.score for r in results) / len(results) if results else 0.0
    print(f"scored {len(results)} conversations → {output}: mean {mean:.1f}, {fails} with a critical fail",
          file=sys.stderr)  # fmt: skip

"""``autopilot eval answers``: registered on the ``eval`` group by :func:`register` (see :mod:`evals.answers`)."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from bot.settings import Settings

__all__ = ["register"]


def _table(result: dict[str, object]) -> Table:
    table = Table(title="Grounding check (rejected = positive class)")
    for column in ("set", "items", "rejection precision", "rejection recall", "accepted precision", "grounded kept"):
        table.add_column(column)
    for name in ("dev", "test"):
        r = result[name]
        assert isinstance(r, dict)
        table.add_row(
            name, *(str(r[k]) for k in ("items", "rejection_precision", "rejection_recall", "accepted_precision",
                                        "grounded_accepted"))
        )  # fmt: skip
    return table


def register(eval_app: typer.Typer) -> None:
    """Add the ``answers`` command to the ``autopilot eval`` group."""

    @eval_app.command("answers")
    def eval_answers(
        dev: Annotated[
            Path | None, typer.Option(help="Labelled calibration set [default: grounding_dev.jsonl].")
        ] = None,
        test: Annotated[Path | None, typer.Option(help="Labelled report set [default: grounding_test.jsonl].")] = None,
        target: Annotated[float, typer.Option(help="Accepted-draft precision the calibration must reach.")] = 0.98,
        limit: Annotated[int, typer.Option(help="Questions answered live when a model is configured.")] = 40,
        save_policy: Annotated[bool, typer.Option(help="Write the calibrated policy used by the answerer.")] = True,
        out: Annotated[Path, typer.Option(help="Folder for the JSON and Markdown reports.")] = Path("evals/reports"),
        name: Annotated[str, typer.Option(help="Report file name, without extension.")] = "answers",
        as_json: Annotated[bool, typer.Option("--json", help="Print the JSON report.")] = False,
    ) -> None:
        """Calibrate the grounding check on dev, report it on test, and measure the LLM answerer when one is set."""
        from bot.composition import make_embedder
        from bot.llm import DEFAULT_POLICY
        from evals.answers import DATA, run_answers

        settings = Settings()

        result = asyncio.run(
            run_answers(
                settings,
                make_embedder(settings),
                dev=dev or DATA / "grounding_dev.jsonl",
                test=test or DATA / "grounding_test.jsonl",
                target=target,
                write_policy=DEFAULT_POLICY if save_policy else None,
                live_limit=limit,
                out=out,
                name=name,
            )
        )
        console = Console(width=None if sys.stdout.isatty() else 160)
        if as_json:
            console.print_json(json.dumps(result))
            return
        console.print(_table(result))
        console.print(f"policy: {result['policy']}")
        console.print(f"live: {json.dumps(result['live'])}")
        console.print(f"reports: {out / name}.md, {out / name}.json")

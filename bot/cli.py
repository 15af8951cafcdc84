"""The ``autopilot`` command line (typer + rich)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from automations.configfile import ConfigError
from bot.settings import Settings

__all__ = ["app", "main"]

T = TypeVar("T")
app = typer.Typer(
    help="Support Autopilot: classify, answer from the knowledge base, hand off, log.", no_args_is_help=True
)
eval_app = typer.Typer(help="Evaluations and benchmarks.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")
console = Console(width=None if sys.stdout.isatty() else 160)  # readable tables in logs and pipes
err = Console(stderr=True)


def _run(coro: Coroutine[Any, Any, T]) -> T:
    try:
        return asyncio.run(coro)
    except ConfigError as exc:
        err.print(f"[bold red]configuration error:[/] {exc}")
        raise typer.Exit(2) from exc
    except FileNotFoundError as exc:
        err.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(2) from exc


def _progress(console_: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=console_
    )


@app.callback()
def _setup(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log to stderr.")] = False) -> None:
    from automations.redaction import install_log_redaction

    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, stream=sys.stderr)
    install_log_redaction()


@app.command()
def ingest(path: Annotated[Path | None, typer.Argument(help="Folder of Markdown articles.")] = None) -> None:
    """Index the knowledge base; unchanged files cost nothing, changed and deleted files update the index."""
    from bot.composition import make_embedder, open_index
    from knowledge.ingest import ingest as run_ingest

    settings = Settings()
    root = path or settings.kb_path

    async def go() -> None:
        index = open_index(settings, make_embedder(settings))
        with _progress(err) as bar:
            task = bar.add_task("ingesting", total=None)

            def tick(done: int, total: int, name: str) -> None:
                bar.update(task, completed=done, total=total, description=f"ingesting {name}")

            report = await run_ingest(root, index, progress=tick)
        console.print(
            f"added {len(report.added)}, updated {len(report.updated)}, unchanged {len(report.unchanged)}, "
            f"deleted {len(report.deleted)}; {report.sections} sections embedded; {await index.count()} in the index"
        )

    _run(go())


@app.command()
def train(
    data: Annotated[list[Path], typer.Option("--data", help="Labelled CSV (text,category); repeatable.")],
    output: Annotated[Path, typer.Option("--output", help="Model directory to write.")],
    precision: Annotated[float, typer.Option(help="Precision the hand-off threshold must reach on validation.")] = 0.97,
) -> None:
    """Train the classifier head on a labelled export and calibrate its thresholds on held-out folds."""
    from bot.training import train_model

    report = _run(train_model(Settings(), data, output, precision=precision))
    console.print_json(json.dumps(report))


@app.command()
def triage(
    input: Annotated[Path, typer.Option("--input", help="JSONL of {id, text[, channel, customer_id]}.")],
    output: Annotated[Path, typer.Option("--output", help="JSONL of decisions.")],
    model: Annotated[Path | None, typer.Option("--model", help="Model directory.")] = None,
    batch: Annotated[int | None, typer.Option(help="Contacts decided together [default: 256].")] = None,
) -> None:
    """Decide on a batch of contacts, with a progress bar on stderr."""
    from bot.batch import run_triage

    count = _run(run_triage(Settings(), input, output, model_dir=model, batch=batch, progress=_progress(err)))
    err.print(f"triaged {count} contacts → {output}")


@app.command()
def ask(question: Annotated[str, typer.Argument(help="An agent's question.")]) -> None:
    """The agent view: answers from public and internal articles."""
    from bot.interactive import agent_answer

    console.print(_run(agent_answer(Settings(), question)), markup=False, highlight=False)


@app.command()
def chat(customer: Annotated[str, typer.Option(help="Customer id for this session.")] = "cus_terminal") -> None:
    """An interactive customer chat in the terminal (public articles only)."""
    from bot.interactive import chat_loop

    _run(chat_loop(Settings(), customer, console))


@app.command()
def demo(
    stream: Annotated[Path | None, typer.Option(help="JSONL stream of contacts to replay.")] = None,
    days: Annotated[
        int | None, typer.Option(help="Instead, generate this many days of realistic history for reports.")
    ] = None,
) -> None:
    """Replay a realistic stream of contacts, print each decision and a deflection summary; with --days, generate a
    history (weekly seasonality, a planted spike, mixed outcomes with CSAT) for report, insights and staffing."""
    if days is not None:
        from bot.history import generate_history

        summary = _run(generate_history(Settings(), days=days))
        console.print(summary)
        return
    from bot.interactive import run_demo

    _run(run_demo(Settings(), stream, console))


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address [default: AUTOPILOT_HOST].")] = None,
    port: Annotated[int | None, typer.Option(help="Port [default: AUTOPILOT_PORT, 8000].")] = None,
) -> None:
    """Run the HTTP service: Intercom webhooks, Slack, the playground at /, health and metrics."""
    from bot.http import serve as run_serve

    settings = Settings()
    updates = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
    _run(run_serve(settings.model_copy(update=updates)))


@app.command()
def worker(
    workers: Annotated[int | None, typer.Option(help="Concurrent inbox workers [default: AUTOPILOT_WORKERS].")] = None,
) -> None:
    """Run only the background workers (inbox processing and outbox delivery), for web processes started with
    AUTOPILOT_WORKERS=0. Several may run against PostgreSQL: claims use FOR UPDATE SKIP LOCKED."""
    from bot.http import work

    settings = Settings()
    _run(work(settings.model_copy(update={"workers": workers} if workers else {})))


@eval_app.command("banking77")
def eval_banking77(
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON report.")] = False,
    out: Annotated[Path, typer.Option(help="Folder for banking77.json and banking77.md.")] = Path("evals/reports"),
    data: Annotated[Path | None, typer.Option(help="Banking77 folder.")] = None,
    fast: Annotated[
        bool, typer.Option("--fast", help="Quick guard against evals/reports/banking77-fast.json.")
    ] = False,
) -> None:
    """Train on Banking77 train (validation held out), score test, and score the shipped out-of-box model; exits 1
    when accuracy or coverage falls more than 0.5 point below the committed figures."""
    from evals.banking77 import fast_guard, run_banking77

    if fast:
        raise typer.Exit(_run(fast_guard()))

    report = _run(run_banking77(Settings(), data=data, out=out))
    if as_json:
        console.print_json(json.dumps(report))


@eval_app.command("safety")
def eval_safety(
    dataset: Annotated[Path | None, typer.Option(help="Adversarial JSONL.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON report.")] = False,
) -> None:
    """Score the decision pipeline on the adversarial safety set (held-out by default)."""
    from evals.safety import run_safety

    report = _run(run_safety(Settings(), dataset))
    if as_json:
        console.print_json(json.dumps(report))


def _register_plugins() -> None:
    from bot.cli_kb import register as register_kb
    from bot.cli_llm import register as register_llm_evals
    from bot.cli_reports import register as register_reports

    register_kb(app)
    register_reports(app)
    register_llm_evals(eval_app)


_register_plugins()


def main() -> None:
    """Console-script entry point."""
    app()

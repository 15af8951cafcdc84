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

from bot.cli_errors import CliGroup
from bot.settings import Settings

__all__ = ["app", "main"]

T = TypeVar("T")
app = typer.Typer(
    help="Support Autopilot: classify, answer from the knowledge base, hand off, log.",
    no_args_is_help=True,
    cls=CliGroup,  # configuration errors: one line, exit 2
)
console = Console(width=None if sys.stdout.isatty() else 160)  # readable tables in logs and pipes
err = Console(stderr=True)


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a command's coroutine; :class:`~bot.cli_errors.CliGroup` reports configuration errors."""
    return asyncio.run(coro)


def _progress(console_: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=console_
    )


LONG_RUNNING = frozenset({"serve", "worker", "scheduler"})


@app.callback()
def _setup(
    ctx: typer.Context, verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log to stderr.")] = False
) -> None:
    """Logging: warnings by default; the long-running processes (serve, worker, scheduler) also log their own
    progress (start-up, readiness, the scheduler's lock, shutdown); ``--verbose`` logs everything at INFO, and the
    product's own records at DEBUG too (one line a decision)."""
    from automations.redaction import install_log_redaction

    long_running = ctx.invoked_subcommand in LONG_RUNNING
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s" if long_running else logging.BASIC_FORMAT,
    )  # fmt: skip
    if verbose or long_running:
        logging.getLogger("autopilot").setLevel(logging.DEBUG if verbose else logging.INFO)
    install_log_redaction()


@app.command()
def ingest(path: Annotated[Path | None, typer.Argument(help="Folder of Markdown articles.")] = None) -> None:
    """Index the knowledge base; unchanged files cost nothing, changed and deleted files update the index."""
    settings = Settings()
    console.print(_run(_ingest(settings, path or settings.kb_path)))


async def _ingest(settings: Settings, root: Path) -> str:
    """Bring the index in line with ``root`` (progress bar on stderr); what changed, on one line."""
    from bot.composition import make_embedder, open_index
    from knowledge.ingest import ingest as run_ingest

    index = open_index(settings, make_embedder(settings))
    with _progress(err) as bar:
        task = bar.add_task("ingesting", total=None)

        def tick(done: int, total: int, name: str) -> None:
            bar.update(task, completed=done, total=total, description=f"ingesting {name}")

        report = await run_ingest(root, index, progress=tick)
    return (
        f"added {len(report.added)}, updated {len(report.updated)}, unchanged {len(report.unchanged)}, "
        f"deleted {len(report.deleted)}; {report.sections} sections embedded; {await index.count()} in the index"
    )


def _ensure_index(settings: Settings) -> None:
    """An empty (or missing) knowledge index would hand every contact off: the embedded index is filled from
    ``KB_PATH`` first, with a notice; an empty Chroma server (``CHROMA_HOST``, shared) is refused in one line."""
    from knowledge.index import chroma_client, sections_collection

    client = chroma_client(path=settings.chroma_dir, host=settings.chroma_host, port=settings.chroma_port)
    if sections_collection(client).count() > 0:
        return
    if settings.chroma_host:
        err.print(
            f"[bold red]error:[/] the knowledge index on {settings.chroma_host}:{settings.chroma_port} is empty;"
            " run `autopilot ingest` first",
            soft_wrap=True,
        )
        raise typer.Exit(2)
    err.print(
        f"The knowledge index is empty: indexing {settings.kb_path} first (what `autopilot ingest` does).",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    err.print(_run(_ingest(settings, settings.kb_path)), markup=False, highlight=False, soft_wrap=True)


@app.command()
def train(
    data: Annotated[list[Path], typer.Option("--data", help="Labelled CSV (text,category); repeatable.")],
    output: Annotated[Path, typer.Option("--output", help="Model directory to write.")],
    precision: Annotated[float, typer.Option(help="Precision the hand-off threshold must reach on validation.")] = 0.97,
    calibrate_on: Annotated[
        list[Path] | None,
        typer.Option(
            "--calibrate-on", help="Files among --data (real traffic) whose held-out predictions alone set thresholds."
        ),
    ] = None,
) -> None:
    """Train the classifier head on a labelled export and calibrate its thresholds on held-out folds."""
    from bot.training import train_model

    report = _run(train_model(Settings(), data, output, precision=precision, calibrate_on=calibrate_on))
    console.print_json(json.dumps(report))


@app.command()
def triage(
    input: Annotated[Path, typer.Option("--input", help="JSONL of {id, text[, channel, customer_id]}.")],
    output: Annotated[Path, typer.Option("--output", help="JSONL of decisions.")],
    model: Annotated[Path | None, typer.Option("--model", help="Model directory.")] = None,
    batch: Annotated[int | None, typer.Option(help="Contacts decided together [default: 256].")] = None,
    fresh: Annotated[
        bool,
        typer.Option(
            "--fresh", help="Decide every line again, recorded under new ids, instead of reusing earlier decisions."
        ),
    ] = False,
) -> None:
    """Decide on a batch of contacts, with a progress bar on stderr. Ids triaged before get the decision recorded
    then (the pipeline is idempotent per contact); the summary says how many, and --fresh decides them again."""
    from bot.batch import run_triage

    settings = Settings()
    _ensure_index(settings)
    run = _run(run_triage(settings, input, output, model_dir=model, batch=batch, progress=_progress(err), fresh=fresh))
    err.print(f"triaged {run.written} contacts → {output}", soft_wrap=True)
    if run.reused:
        err.print(
            f"{run.reused} of them were triaged before: their recorded decisions were reused"
            " (--fresh decides them again)",
            soft_wrap=True,
        )


@app.command()
def ask(question: Annotated[str, typer.Argument(help="An agent's question.")]) -> None:
    """The agent view: answers from public and internal articles."""
    from bot.interactive import agent_answer

    settings = Settings()
    _ensure_index(settings)
    console.print(_run(agent_answer(settings, question)), markup=False, highlight=False)


@app.command()
def chat(customer: Annotated[str, typer.Option(help="Customer id for this session.")] = "cus_terminal") -> None:
    """An interactive customer chat in the terminal (public articles only)."""
    from bot.interactive import chat_loop

    settings = Settings()
    _ensure_index(settings)
    _run(chat_loop(settings, customer, console))


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

        settings = Settings()
        summary = _run(generate_history(settings, days=days))
        console.print(summary.describe(settings.db_url), markup=False, highlight=False, soft_wrap=True)
        return
    from bot.interactive import run_demo

    settings = Settings()
    _ensure_index(settings)
    _run(run_demo(settings, stream, console))


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address [default: AUTOPILOT_HOST].")] = None,
    port: Annotated[int | None, typer.Option(help="Port [default: AUTOPILOT_PORT, 8000].")] = None,
) -> None:
    """Run the HTTP service: Intercom webhooks, Slack, the playground at /, health and metrics."""
    from bot.http import serve as run_serve
    from bot.intercom.config import check_settings

    settings = Settings()
    check_settings(settings)  # an empty embedded index is filled behind the open port (bot.http.ensure_index)
    updates = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
    _run(run_serve(settings.model_copy(update=updates)))
    _exit_stopped()


@app.command()
def worker(
    workers: Annotated[int | None, typer.Option(help="Inbox worker loops [default: AUTOPILOT_WORKERS].")] = None,
    port: Annotated[
        int | None, typer.Option(help="Serve /healthz and /metrics here [default: AUTOPILOT_WORKER_PORT, off].")
    ] = None,
) -> None:
    """Run only the background workers (inbox processing and outbox delivery), for web processes started with
    AUTOPILOT_WORKERS=0. Several may run against PostgreSQL: claims use FOR UPDATE SKIP LOCKED. SIGTERM stops it
    gracefully: no new claims, the items in hand finished, the rest handed back at once."""
    from bot.http import work
    from bot.intercom.config import check_settings

    settings = Settings()
    check_settings(settings)
    settings = settings.model_copy(update={"workers": workers} if workers is not None else {})
    _run(work(settings, port=port if port is not None else settings.worker_port))
    _exit_stopped()


def _exit_stopped() -> None:
    """Exit 0 after a graceful stop: everything is committed or handed back by now, so the interpreter's teardown of
    the model libraries (seconds on a busy machine) is skipped, and a stop completes within its 5 s."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _register_plugins() -> None:
    """The product's command groups, then those other installed packages contribute through the
    ``autopilot.commands`` entry point group (``autopilot eval`` comes from ``evals``)."""
    from importlib.metadata import entry_points

    from bot.cli_clocks import app as clocks_app
    from bot.cli_kb import register as register_kb
    from bot.cli_privacy import app as privacy_app
    from bot.cli_qa import register as register_qa
    from bot.cli_reports import register as register_reports

    register_kb(app)
    register_qa(app)
    register_reports(app)
    app.add_typer(clocks_app, name="clocks")
    app.add_typer(privacy_app, name="privacy")
    for entry in sorted(entry_points(group="autopilot.commands"), key=lambda e: e.name):
        app.add_typer(entry.load(), name=entry.name)


_register_plugins()


def main() -> None:
    """Console-script entry point."""
    app()

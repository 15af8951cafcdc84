"""``autopilot eval``: the evaluations, a typer app the product's CLI finds through the ``autopilot.commands`` entry
point (``pyproject.toml``), so that no product module imports ``evals``.

``banking77`` trains on Banking77 and scores the shipped model, ``safety`` scores the pipeline on an adversarial set,
``answers`` calibrates the LLM answerer's grounding check. Configuration errors print one line and exit 2 (the
``autopilot`` group handles them for every command).
"""

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

__all__ = ["app"]

app = typer.Typer(help="Evaluations and benchmarks.", no_args_is_help=True)
console = Console(width=None if sys.stdout.isatty() else 160)  # readable tables in logs and pipes
REPORTS = Path("evals/reports")


@app.command("banking77")
def eval_banking77(
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON report.")] = False,
    out: Annotated[Path, typer.Option(help="Folder for banking77.json and banking77.md.")] = REPORTS,
    data: Annotated[Path | None, typer.Option(help="Banking77 folder.")] = None,
    fast: Annotated[
        bool, typer.Option("--fast", help="Quick guard against evals/reports/banking77-fast.json.")
    ] = False,
) -> None:
    """Train on Banking77 train (validation held out), score test, and score the shipped out-of-box model; exits 1
    when accuracy or coverage falls more than 0.5 point below the committed figures."""
    from evals.banking77 import fast_guard, run_banking77

    if fast:
        raise typer.Exit(asyncio.run(fast_guard()))

    report = asyncio.run(run_banking77(Settings(), data=data, out=out))
    if as_json:
        console.print_json(json.dumps(report))


@app.command("safety")
def eval_safety(
    dataset: Annotated[Path | None, typer.Option(help="Adversarial JSONL.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON report.")] = False,
) -> None:
    """Score the decision pipeline on the adversarial safety set (held-out by default)."""
    from evals.safety import run_safety

    report = asyncio.run(run_safety(Settings(), dataset))
    if as_json:
        console.print_json(json.dumps(report))


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


@app.command("answers")
def eval_answers(
    dev: Annotated[Path | None, typer.Option(help="Labelled calibration set [default: grounding_dev.jsonl].")] = None,
    test: Annotated[Path | None, typer.Option(help="Labelled report set [default: grounding_test.jsonl].")] = None,
    target: Annotated[float, typer.Option(help="Accepted-draft precision the calibration must reach.")] = 0.98,
    limit: Annotated[int, typer.Option(help="Questions answered live when a model is configured.")] = 40,
    save_policy: Annotated[bool, typer.Option(help="Write the calibrated policy used by the answerer.")] = True,
    out: Annotated[Path, typer.Option(help="Folder for the JSON and Markdown reports.")] = REPORTS,
    name: Annotated[str, typer.Option(help="Report file name, without extension.")] = "answers",
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON report.")] = False,
    facts: Annotated[
        bool,
        typer.Option(
            "--facts",
            help="Answer quality instead: key facts, intro-only and hand-off rates on the answers dev set, for the"
            " extractive path and the LLM path when one is configured.",
        ),
    ] = False,
    dataset: Annotated[
        Path | None, typer.Option(help="With --facts: the dev set [default: answers_dev.jsonl].")
    ] = None,
) -> None:
    """Calibrate the grounding check on dev, report it on test, and measure the LLM answerer when one is set; with
    ``--facts``, the answer-quality eval instead."""
    from bot.composition import make_embedder
    from bot.llm import DEFAULT_POLICY
    from evals.answers import DATA, run_answers

    settings = Settings()
    if facts:
        _facts(settings, dataset, out)
        return
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
    if as_json:
        console.print_json(json.dumps(result))
        return
    console.print(_table(result))
    console.print(f"policy: {result['policy']}")
    console.print(f"live: {json.dumps(result['live'])}")
    console.print(f"reports: {out / name}.md, {out / name}.json")


@app.command("pii")
def eval_pii(
    corpus: Annotated[
        Path | None, typer.Option(help="PII corpus JSONL [default: evals/data/pii_corpus.jsonl].")
    ] = None,
    limit: Annotated[int | None, typer.Option(help="Only the first N messages.")] = None,
    out: Annotated[Path, typer.Option(help="Where pii.json is written.")] = REPORTS,
) -> None:
    """Run the PII corpus through the real service (signed webhooks → inbox → pipeline → outbox) on a scratch
    database, then count raw values left in the database and the logs, by type; exits 1 when any is left."""
    from evals.pii import CORPUS, run_pii

    result = asyncio.run(run_pii(Settings(), corpus or CORPUS, limit=limit))
    out.mkdir(parents=True, exist_ok=True)
    (out / "pii.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    table = Table(title=f"Raw PII after a full pipeline run ({result['messages']} messages)")
    for col in ("type", "values", "raw in database", "raw in logs"):
        table.add_column(col, justify="left" if col == "type" else "right")
    for kind, row in result["by_type"].items():
        table.add_row(kind, str(row["values"]), str(row["database"]), str(row["logs"]))
    console.print(table)
    fp = result["false_redactions_banking77_train"]
    console.print(f"false redactions on Banking77 train: {fp['changed']}/{fp['questions']} ({fp['rate']:.2%})")
    console.print(f"report: {out / 'pii.json'}")
    raise typer.Exit(1 if result["raw_in_database"] or result["raw_in_logs"] else 0)


@app.command("oos")
def eval_oos(
    dataset: Annotated[Path | None, typer.Option(help="JSONL of {id, text} [default: CLINC150 oos test].")] = None,
    out: Annotated[Path, typer.Option(help="Where oos.json is written.")] = REPORTS,
) -> None:
    """Public out-of-scope queries through the pipeline: the share answered with an article (lower is better)."""
    from evals.oos import DEFAULT_OOS, run_oos

    result = asyncio.run(run_oos(Settings(), dataset or DEFAULT_OOS))
    out.mkdir(parents=True, exist_ok=True)
    (out / "oos.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    console.print(
        f"{result['answered_with_article']} of {result['queries']} out-of-scope queries answered with an article "
        f"({result['rate']:.2%}); actions {result['actions']}; report: {out / 'oos.json'}"
    )


def _facts(settings: Settings, dataset: Path | None, out: Path) -> None:
    from evals.answer_facts import DEV_SET, run_facts_paths

    result = asyncio.run(run_facts_paths(settings, dataset or DEV_SET))
    out.mkdir(parents=True, exist_ok=True)
    (out / "facts.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    table = Table(title=f"Answer quality on {result['dataset']} ({result['in_kb']} in-KB, {result['out_of_kb']} out)")
    for column in ("path", "answered", "key facts", "right article", "intro-only", "handed off", "out-of-KB answered"):
        table.add_column(column)
    for path, r in result["paths"].items():
        if isinstance(r, str):
            table.add_row(path, r, "", "", "", "", "")
            continue
        keys = ("answered", "key_facts_among_answered", "right_article_among_answered", "intro_only_among_answered",
                "handed_off", "out_of_kb_answered_with_article")  # fmt: skip
        table.add_row(path, *(f"{r[k]:.1%}" for k in keys))
    console.print(table)
    console.print(f"report: {out / 'facts.json'}")


@app.command("facts")
def eval_facts(
    dataset: Annotated[Path | None, typer.Option(help="Dev set [default: evals/data/answers_dev.jsonl].")] = None,
    out: Annotated[Path, typer.Option(help="Where facts.json is written.")] = REPORTS,
) -> None:
    """Alias of ``eval answers --facts``: key facts carried, intro-only answers, hand-offs, and out-of-KB requests
    answered with an article."""
    _facts(Settings(), dataset, out)


@app.command("operating-point")
def eval_operating_point(
    data: Annotated[Path | None, typer.Option(help="Banking77 folder.")] = None,
    out: Annotated[Path, typer.Option(help="Where operating-point.json is written.")] = REPORTS,
) -> None:
    """The shipped model on Banking77 test: realised precision at its threshold against the promised one, and the
    pipeline's answers (share answered, right article among them)."""
    from evals.operating_point import run_operating_point

    result = asyncio.run(run_operating_point(Settings(), data=data))
    out.mkdir(parents=True, exist_ok=True)
    (out / "operating-point.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    console.print_json(json.dumps(result))


@app.command("open-intent")
def eval_open_intent(
    seeds: Annotated[int, typer.Option(help="Random draws of the known intents per ratio.")] = 5,
    data: Annotated[Path | None, typer.Option(help="Banking77 folder.")] = None,
    out: Annotated[Path, typer.Option(help="Where open-intent.json is written.")] = REPORTS,
) -> None:
    """Open intent detection on Banking77 with 25/50/75 % of the intents known, beside the published figures."""
    from evals.open_intent import run_open_intent

    result = asyncio.run(run_open_intent(Settings(), data=data, seeds=seeds))
    out.mkdir(parents=True, exist_ok=True)
    (out / "open-intent.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    table = Table(
        title=f"Open intent detection, Banking77 test ({seeds} seeds; published: {result['published_source']})"
    )
    for column in ("known", "method", "accuracy", "macro-F1", "open F1", "known F1"):
        table.add_column(column)
    for ratio, r in result["ratios"].items():
        rows = [(f"ours: {m}", v) for m, v in r["ours"].items()] + [
            (f"{m} (published)", v) for m, v in r["published"].items()
        ]
        for method, v in rows:
            table.add_row(
                f"{float(ratio):.0%}", method, *(f"{v[k]:.2%}" for k in ("accuracy", "macro_f1", "open_f1", "known_f1"))
            )
    console.print(table)
    console.print(f"report: {out / 'open-intent.json'}")


@app.command("qa")
def eval_qa(
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON report.")] = False,
    min_recall: Annotated[float, typer.Option(help="Exit 1 below this critical-fail recall on any set.")] = 0.95,
    min_precision: Annotated[float, typer.Option(help="Exit 1 below this critical-fail precision on any set.")] = 0.9,
    with_judge: Annotated[bool, typer.Option("--judge", help="Grade the quality criteria with the LLM judge.")] = False,
    rules_only: Annotated[bool, typer.Option("--rules-only", help="Critical fails from the rules alone.")] = False,
) -> None:
    """Score the QA calibration set (two graders) and the blind holdouts: critical-fail recall and precision,
    per-criterion agreement and Cohen's kappa (with coverage: the share of a grader's labels the scorer scored)."""
    from bot.llm import build_qa_judge
    from evals.qa import run_qa

    settings = Settings()
    judge = build_qa_judge(settings) if with_judge else None
    if with_judge and judge is None:
        console.print("--judge needs an LLM (LLM_MODEL and LLM_BASE_URL or OPENAI_API_KEY)")
        raise typer.Exit(2)
    report = asyncio.run(run_qa(settings.qa_scorecard_path, judge=judge, learned=not rules_only))
    if as_json:
        console.print_json(json.dumps(report))
        return
    failed = False
    for name, rep in report.items():
        assert isinstance(rep, dict)
        cf = rep["critical_fails"]
        table = Table(title=f"{name}: {rep['conversations']} conversations, critical-fail recall {cf['recall']}, "
                      f"precision {cf['precision']}, clean falsely alarmed {rep['clean_falsely_alarmed']}"
                      f"/{rep['clean_conversations']}")  # fmt: skip
        for column in ("criterion / fail", "agreement / recall", "kappa / precision", "n / tp", "coverage / fn"):
            table.add_column(column)
        for cid, row in rep["per_fail"].items() if "per_fail" in rep else cf["per_fail"].items():
            table.add_row(cid, str(row["recall"]), str(row["precision"]), str(row["tp"]), str(row["fn"]))
        for cid, row in rep["criteria"].items():
            kappa = "-" if row["kappa"] is None else f"{row['kappa']:.2f}"
            table.add_row(cid, str(row["agreement"]), kappa, str(row["n"]), str(row["coverage"]))
        console.print(table)
        failed |= (cf["recall"] or 0) < min_recall or (cf["precision"] or 0) < min_precision
    raise typer.Exit(1 if failed else 0)


@app.command("clocks")
def eval_clocks(
    dataset: Annotated[Path | None, typer.Option(help="JSONL of contacts with expected clocks.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON report.")] = False,
) -> None:
    """Regulatory deadlines on the blind clocks set: each contact's rule ids and due moments; exits 1 on a miss."""
    from evals.clocks import DEFAULT_CLOCKS, run_clocks

    report = asyncio.run(run_clocks(Settings(), dataset or DEFAULT_CLOCKS))
    if as_json:
        console.print_json(json.dumps(report))
    else:
        console.print(f"clocks: {report['passed']}/{report['items']} exact; by rule {report['by_rule']}")
        for failure in report["failures"]:
            console.print(failure)
    raise typer.Exit(0 if report["passed"] == report["items"] else 1)

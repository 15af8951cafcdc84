"""Train, calibrate and ship the risk layer (:mod:`automations.risk`)::

    .venv/bin/python -m evals.risk_training                 # writes automations/data/risk/ and evals/reports/risk.*

The corpus (:mod:`evals.risk_corpus`) is embedded with the packaged MiniLM on the configured backend (int8 ONNX by
default, the vectors the pipeline computes), cached on disk. Out-of-fold probabilities come from 5 group folds: a
paraphrase family, an adversarial set or a bucket of Banking77 questions is never scored by a model that saw it. Each
kind's threshold is the highest one whose out-of-fold recall on the protected contacts written for it (paraphrases
and adversarial sets) reaches the recall target, unless that would hand off more than ``budget`` of the ordinary
Banking77 questions; then the budget decides. The shipped head is then fitted on everything.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from automations.risk import DEFAULT_LEAN_FLOOR, DEFAULT_RISK, ORDINARY, RISK_KINDS, RiskHead, fired_kinds
from bot.settings import Settings
from evals.banking77 import default_data_dir
from evals.report import write_reports
from evals.risk_corpus import Corpus, load_corpus
from evals.risk_report import combined_figures
from knowledge.embedding import MiniLMEmbedder, stored_embeddings

__all__ = ["choose_thresholds", "fit_head", "main", "out_of_fold", "train_risk"]

LABELS = (ORDINARY, *RISK_KINDS)
HIDDEN = 256
ALPHA = 0.01
FOLDS = 5
BANKING77 = "banking77_train"


def fit_head(x: npt.NDArray[np.float32], y: npt.NDArray[np.int64], *, seed: int = 0) -> Any:
    """A one-hidden-layer network over the embeddings (scikit-learn), softmax over :data:`LABELS`."""
    from sklearn.neural_network import MLPClassifier

    model = MLPClassifier((HIDDEN,), alpha=ALPHA, max_iter=300, early_stopping=True, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(x, y)
    if list(model.classes_) != list(range(len(LABELS))):
        raise ValueError("every label needs training examples")
    return model


def out_of_fold(x: npt.NDArray[np.float32], y: npt.NDArray[np.int64], groups: list[str]) -> npt.NDArray[np.float64]:
    """Probabilities of each row from a model that never saw its group."""
    from sklearn.model_selection import GroupKFold

    probs = np.zeros((len(y), len(LABELS)))
    for train, held in GroupKFold(FOLDS).split(x, y, groups):
        probs[held] = fit_head(x[train], y[train]).predict_proba(x[held])
    return probs


def _recall_cut(scores: npt.NDArray[np.float64], target: float) -> float:
    """The highest threshold at which at least ``target`` of ``scores`` are at or above it."""
    ordered = np.sort(scores)
    return float(ordered[int(np.floor((1.0 - target) * len(ordered) + 1e-9))])


def choose_thresholds(
    probs: npt.NDArray[np.float64],
    y: npt.NDArray[np.int64],
    sources: list[str],
    *,
    recall: float,
    budget: float,
    lean_floor: float = DEFAULT_LEAN_FLOOR,
) -> tuple[dict[str, float], dict[str, Any]]:
    """Each kind's threshold (see the module docstring) and the out-of-fold figures at it."""
    src = np.array(sources)
    ordinary = (y == 0) & (src == BANKING77)
    written = src != BANKING77
    thresholds: dict[str, float] = {}
    figures: dict[str, Any] = {}
    fired_any = np.zeros(len(y), dtype=bool)
    for j, kind in enumerate(RISK_KINDS, start=1):
        scores = probs[:, j]
        positives = (y == j) & written
        by_recall = _recall_cut(scores[positives], recall)
        by_budget = float(np.sort(scores[ordinary])[-int(np.floor(budget * ordinary.sum())) - 1]) + 1e-6
        cut = max(by_recall, by_budget)
        thresholds[kind] = round(cut, 6)
        fired = scores >= cut
        fired_any |= fired
        figures[kind] = {
            "threshold": round(cut, 4),
            "bound_by": "recall" if by_recall >= by_budget else "budget",
            "positives": int(positives.sum()),
            "recall": round(float(fired[positives].mean()), 4),
            "recall_paraphrases": round(float(fired[(y == j) & (src == "paraphrases")].mean()), 4),
            "recall_adversarial": _share(fired, (y == j) & np.char.startswith(src, "adversarial")),
            "recall_banking77_intents": _share(fired, (y == j) & ~written),
            "ordinary_false_positive_rate": round(float(fired[ordinary].mean()), 5),
        }
    best = np.argmax(probs, axis=1)
    leans = (best > 0) & (probs[np.arange(len(y)), best] >= lean_floor)
    figures["lean"] = {
        "floor": lean_floor,
        "ordinary_leaning_protected": round(float(leans[ordinary].mean()), 5),
        "protected_leaning_right_kind": _share(leans & (best == y), (y > 0) & written),
        "protected_leaning_other_kind": _share(leans & (best != y), (y > 0) & written),
    }
    figures["any_kind"] = {
        "ordinary_false_positive_rate": round(float(fired_any[ordinary].mean()), 5),
        "ordinary_questions": int(ordinary.sum()),
        "paraphrase_hard_negatives_flagged": _share(fired_any, (y == 0) & (src == "paraphrases")),
    }
    return thresholds, figures


def _share(mask: npt.NDArray[np.bool_], among: npt.NDArray[np.bool_]) -> float | None:
    return round(float(mask[among].mean()), 4) if among.any() else None


def _head(model: Any, thresholds: dict[str, float], info: dict[str, Any], lean_floor: float) -> RiskHead:
    layers = tuple(
        (np.asarray(w, dtype=np.float32), np.asarray(b, dtype=np.float32))
        for w, b in zip(model.coefs_, model.intercepts_, strict=True)
    )
    return RiskHead(labels=LABELS, layers=layers, thresholds=thresholds, info=info, lean_floor=lean_floor)


async def train_risk(
    corpus: Corpus,
    embedder: MiniLMEmbedder,
    *,
    recall: float = 0.97,
    budget: float = 0.001,
    lean_floor: float = DEFAULT_LEAN_FLOOR,
) -> tuple[RiskHead, dict[str, Any]]:
    """Embed ``corpus``, choose the thresholds on out-of-fold probabilities, fit the shipped head on everything."""
    vectors, _ = await stored_embeddings(embedder, corpus.texts)
    y = np.array([LABELS.index(r.kind) for r in corpus.rows], dtype=np.int64)
    groups = [r.group for r in corpus.rows]
    sources = [r.source for r in corpus.rows]
    probs = out_of_fold(vectors, y, groups)
    thresholds, figures = choose_thresholds(probs, y, sources, recall=recall, budget=budget, lean_floor=lean_floor)
    with_rules = combined_figures(corpus, fired_kinds(probs[:, 1:], RISK_KINDS, thresholds))
    counts: dict[str, dict[str, int]] = {}
    for row in corpus.rows:
        counts.setdefault(row.source, {}).setdefault(row.kind, 0)
        counts[row.source][row.kind] += 1
    info = {
        "embedding_backend": embedder.backend,
        "model": f"MLP ({HIDDEN} ReLU units, alpha {ALPHA}) over MiniLM, softmax over ordinary and the kinds",
        "recall_target": recall,
        "budget_per_kind": budget,
        "folds": f"{FOLDS} group folds (paraphrase family, adversarial set, Banking77 bucket)",
        "out_of_fold": figures,
        "out_of_fold_with_rules": with_rules,
        "corpus": counts,
    }
    return _head(fit_head(vectors, y), thresholds, info, lean_floor), info


def main(argv: list[str] | None = None) -> None:
    """Command line: train on the corpus and write the head and the report."""
    parser = argparse.ArgumentParser(prog="python -m evals.risk_training", description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None, help="Banking77 folder (train.csv; default ../shared/...)")
    parser.add_argument("--output", type=Path, default=DEFAULT_RISK, help="where the head goes (default: packaged)")
    parser.add_argument("--recall", type=float, default=0.97, help="recall target per kind (default 0.97)")
    parser.add_argument("--budget", type=float, default=0.001, help="ordinary questions one kind may flag (0.001)")
    parser.add_argument("--lean-floor", type=float, default=DEFAULT_LEAN_FLOOR, help="leaning floor (default 0.5)")
    parser.add_argument("--report", type=Path, default=Path("evals/reports"), help="report folder")
    parser.add_argument(
        "--without-fp-sample", action="store_true",
        help="leave out the questions `python -m evals.safety_fp` draws, to measure its cost on unseen questions",
    )  # fmt: skip
    args = parser.parse_args(argv)
    settings = Settings()
    data = args.data or default_data_dir()
    corpus = load_corpus(data)
    if args.without_fp_sample:
        from evals.safety_fp import sample_questions

        drawn = set(sample_questions(data))
        corpus = Corpus(tuple(r for r in corpus.rows if r.text not in drawn))
    embedder = MiniLMEmbedder(backend=settings.embedding_backend, cache_size=len(corpus.rows) + 1024)
    head, info = asyncio.run(
        train_risk(corpus, embedder, recall=args.recall, budget=args.budget, lean_floor=args.lean_floor)
    )
    head.save(args.output)
    command = " ".join([".venv/bin/python -m evals.risk_training", *map(shlex.quote, sys.argv[1:])])
    output = os.path.relpath(args.output) if args.output.is_absolute() else str(args.output)
    result = {"command": command, "output": output, "thresholds": head.thresholds, **info}
    write_reports(result, args.report, name="risk", title="Risk layer: out-of-fold recall and ordinary cost")
    print(json.dumps({k: v for k, v in result.items() if k != "corpus"}, indent=2))


if __name__ == "__main__":
    main()

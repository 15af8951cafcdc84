"""Train the QA critical-fail head (``automations/data/qa_head``) on the graded QA sets.

Every agent and bot sentence of the sets is embedded with the packaged MiniLM (the product's default backend) and
labelled with the critical fail whose evidence it is (else ``none``); a class-balanced multinomial logistic regression
is fitted on them. The threshold is the one measured on a set the head had not seen: trained on the calibration set
and holdouts 1 and 2, the head at 0.8 (rules' gates applied) raised blind holdout 3's critical-fail recall from 0.774
to 0.855 at precision 0.964 (``--blind evals/data/qa_holdout3.jsonl`` repeats that measurement).

    .venv/bin/python -m evals.qa_training [--blind SET] [--out automations/data/qa_head]
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

import numpy as np

from automations.qa import CRITICAL_FAIL_IDS, QaScorer, load_scorecard
from automations.qa.head import DEFAULT_QA_HEAD, CriticalHead
from automations.qa.sentences import sentences
from automations.redaction import redact
from bot.qa_io import QaLine
from knowledge.embedding import MiniLMEmbedder

DATA = Path(__file__).parent / "data"
SETS = ("qa_calibration.jsonl", "qa_holdout.jsonl", "qa_holdout2.jsonl", "qa_holdout3.jsonl")
THRESHOLD = 0.8
LABELS = ("none", *CRITICAL_FAIL_IDS)


def labelled_sentences(path: Path) -> list[tuple[str, str]]:
    """(sentence, label) for every agent and bot sentence of a graded set, redacted as the product sees them."""
    rows: list[tuple[str, str]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        labels = item["labels"]
        evidence = {k: redact(v) for k, v in (labels.get("evidence") or {}).items() if k in CRITICAL_FAIL_IDS}
        for message in item["messages"]:
            if message["author"] in ("agent", "bot"):
                for sentence in sentences(redact(message["text"])):
                    label = next((k for k, e in evidence.items() if e and (sentence in e or e in sentence)), "none")
                    rows.append((sentence, label))
    return rows


async def train(paths: list[Path]) -> CriticalHead:
    """Fit the head on the sets at ``paths``."""
    from sklearn.linear_model import LogisticRegression

    rows = [row for path in paths for row in labelled_sentences(path)]
    x = np.asarray(await MiniLMEmbedder().embed([s for s, _ in rows]), dtype=np.float64)
    y = np.asarray([LABELS.index(label) for _, label in rows])
    model = LogisticRegression(C=4.0, max_iter=3000, class_weight="balanced").fit(x, y)
    order = [list(model.classes_).index(i) for i in range(len(LABELS))]
    weights = model.coef_.T[:, order].astype(np.float64)
    bias = model.intercept_[order].astype(np.float64)
    return CriticalHead(LABELS, weights, bias, dict.fromkeys(CRITICAL_FAIL_IDS, THRESHOLD))


async def blind_check(blind: Path) -> dict[str, object]:
    """Train without ``blind`` and score it with rules alone and with rules and head."""
    head = await train([DATA / name for name in SETS if name != blind.name])
    raw = [x for x in blind.read_text(encoding="utf-8").splitlines() if x.strip()]  # noqa: ASYNC240 - small file
    lines = [QaLine.model_validate_json(x) for x in raw]
    truth = {json.loads(x)["id"]: set(json.loads(x)["labels"]["critical_fails"]) for x in raw}
    card = load_scorecard()
    report: dict[str, object] = {}
    with_head = QaScorer(card, head=head, embedder=MiniLMEmbedder())
    for name, scorer in (("rules", QaScorer(card)), ("rules+head", with_head)):
        results = await scorer.score_many([line.transcript() for line in lines])
        got = {r.id: set(r.critical_fails) for r in results}
        tp = sum(len(truth[c] & got[c]) for c in truth)
        fn = sum(len(truth[c] - got[c]) for c in truth)
        fp = sum(len(got[c] - truth[c]) for c in truth)
        clean = [c for c in truth if not truth[c]]
        report[name] = {"recall": round(tp / (tp + fn), 4), "precision": round(tp / max(1, tp + fp), 4),
                        "clean_falsely_alarmed": f"{sum(1 for c in clean if got[c])}/{len(clean)}"}  # fmt: skip
    return report


def main() -> None:
    """Train on every graded set and write the shipped head (or only measure with ``--blind``)."""
    parser = argparse.ArgumentParser(prog="python -m evals.qa_training", description=__doc__.splitlines()[0])
    parser.add_argument("--blind", type=Path, help="Measure on this set with a head trained without it.")
    parser.add_argument("--out", type=Path, default=DEFAULT_QA_HEAD)
    args = parser.parse_args()
    if args.blind is not None:
        print(json.dumps(asyncio.run(blind_check(args.blind)), indent=2))
        return
    head = asyncio.run(train([DATA / name for name in SETS]))
    head.save(args.out)
    print(f"wrote {args.out} ({len(LABELS)} labels, thresholds {THRESHOLD})")


if __name__ == "__main__":
    main()

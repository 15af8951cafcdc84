"""The false-positive cost of the safety layer on ordinary banking questions.

A fixed sample of Banking77 *train* (never test) runs through the full decision pipeline (real model, index and
rules). ``--out FILE`` records every decision; ``--diff BEFORE AFTER`` counts the questions a change newly hands off
to a person or newly answers with the out-of-scope reply, as a share of the sample::

    .venv/bin/python -m evals.safety_fp --out /tmp/fp-before.json    # on the old rules
    .venv/bin/python -m evals.safety_fp --out /tmp/fp-after.json     # on the new rules
    .venv/bin/python -m evals.safety_fp --diff /tmp/fp-before.json /tmp/fp-after.json

Each ``--out`` run also gives the absolute figure: the share of the sample the safety layer hands to a person although
its Banking77 intent is an ordinary question, leaving out the intents that are themselves protected contacts (a
payment, withdrawal or direct debit not recognised, an ATM that paid out the wrong amount, a compromised card: the
risk corpus's ``BANKING77_KINDS``; and a transaction charged twice, an error notice by the issue's definition).

Each run records hashes of the pipeline and the safety layer; a diff lists which of them changed between the runs
(anything beyond the safety files means the figure measures more than the safety change).

``--languages`` runs only the language check (automations/language.py) over the questions (``--sample 0``: all of
Banking77 train): how many English questions it would take for another language, and what it costs a message::

    .venv/bin/python -m evals.safety_fp --languages --sample 0
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import hashlib
import json
import random
import shlex
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from automations.models import Action, Contact
from automations.safety import SafetyGate, load_safety_rules
from bot.composition import build_core
from bot.settings import Settings
from evals.banking77 import default_data_dir
from evals.risk_corpus import BANKING77_KINDS

__all__ = [
    "PROTECTED_INTENTS", "SAMPLE", "SEED", "diff_runs", "language_flags", "run_sample", "safety_handoffs",
    "sample_questions",
]  # fmt: skip

SAMPLE = 3000
SEED = 20261122
BATCH = 64
OUT_OF_SCOPE = "out_of_scope"
ROOT = Path(__file__).resolve().parents[1]
WATCHED = (
    "automations/pipeline.py", "automations/gates.py", "automations/safety.py", "automations/disguise.py",
    "automations/language.py", "automations/data/safety.yaml", "automations/safety_rules.py", "automations/signals.py",
    "automations/risk.py", "automations/data/risk/risk.json", "automations/data/taxonomy.yaml",
)  # fmt: skip


PROTECTED_INTENTS = frozenset({*BANKING77_KINDS, "transaction_charged_twice"})
"""Banking77 intents that are protected contacts (error notices, fraud): a safety hand-off of one is no false alarm."""


def safety_handoffs(texts: list[str], rows: list[dict[str, str]], intents: dict[str, str]) -> dict[str, Any]:
    """Safety-layer hand-offs of the sample, split by the question's Banking77 intent (``intents``: text -> intent):
    the ordinary ones are the false alarms."""
    ordinary: Counter[str] = Counter()
    protected = 0
    for text, row in zip(texts, rows, strict=True):
        if row["reason"].startswith("safety:"):
            intent = intents.get(text, "")
            if intent in PROTECTED_INTENTS:
                protected += 1
            else:
                ordinary[intent] += 1
    total = sum(ordinary.values())
    return {"protected_intents": protected, "ordinary_intents": total, "ordinary_share": round(total / len(texts), 5),
            "ordinary_by_intent": dict(ordinary.most_common())}  # fmt: skip


def _intents(data_dir: Path) -> dict[str, str]:
    with (data_dir / "train.csv").open(encoding="utf-8", newline="") as handle:
        return {row["text"]: row["category"] for row in csv.DictReader(handle)}


def sample_questions(data_dir: Path, n: int = SAMPLE, seed: int = SEED) -> list[str]:
    """``n`` questions of Banking77 train, drawn with a fixed seed (the same sample on every machine); all of them
    when ``n`` is 0."""
    with (data_dir / "train.csv").open(encoding="utf-8", newline="") as handle:
        texts = [row["text"] for row in csv.DictReader(handle)]
    return random.Random(seed).sample(texts, n) if n else texts


def _command() -> str:
    return " ".join([".venv/bin/python -m evals.safety_fp", *map(shlex.quote, sys.argv[1:])])


def _hashes() -> dict[str, str]:
    return {name: hashlib.sha256((ROOT / name).read_bytes()).hexdigest()[:16] for name in WATCHED}


async def run_sample(settings: Settings, texts: list[str]) -> list[dict[str, str]]:
    """Every question through a fresh core (scratch database); one row per question, in order."""
    rows: list[dict[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        core = await build_core(settings.scratch(Path(tmp)))
        try:
            run = uuid.uuid4().hex[:8]
            for start in range(0, len(texts), BATCH):
                part = texts[start : start + BATCH]
                chunk = [Contact(id=f"fp-{run}-{start + i}", text=t) for i, t in enumerate(part)]
                for decision in await core.pipeline.handle_many(chunk):
                    rows.append(
                        {"action": str(decision.action), "tier": decision.tier, "category": decision.category,
                         "reason": decision.reason}
                    )  # fmt: skip
        finally:
            await core.close()
    return rows


def _outcome(row: dict[str, str]) -> str:
    if row["action"] == str(Action.HANDOFF):
        return "handoff"
    return "out_of_scope_reply" if row["category"] == OUT_OF_SCOPE else "answer"


def diff_runs(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """What changed between two runs on the same sample: questions newly handed off, newly given the out-of-scope
    reply, or newly routed by a safety rule, with examples."""
    if before["texts"] != after["texts"]:
        raise SystemExit("the two runs are not on the same sample")
    texts, n = before["texts"], len(before["texts"])
    changed: Counter[str] = Counter()
    examples: dict[str, list[str]] = {}
    for text, old, new in zip(texts, before["decisions"], after["decisions"], strict=True):
        was, now = _outcome(old), _outcome(new)
        kinds = []
        if now != was and now in ("handoff", "out_of_scope_reply"):
            kinds.append(f"newly_{now}")
        if now != was and was in ("handoff", "out_of_scope_reply"):
            kinds.append(f"no_longer_{was}")
        if new["reason"].startswith("safety:") and new["reason"] != old["reason"]:
            kinds.append("new_safety_reason")
        if new["reason"] == "prompt_injection" and old["reason"] != "prompt_injection":
            kinds.append("new_injection_flag")
        for kind in kinds:
            changed[kind] += 1
            examples.setdefault(kind, []).append(f"{text} [{old['reason']} -> {new['reason']}:{new['tier']}]")
    extra = changed["newly_handoff"] + changed["newly_out_of_scope_reply"]
    return {
        "command": _command(),
        "sample": n,
        "extra_cost": extra,
        "extra_cost_share": round(extra / n, 5),
        "counts": dict(sorted(changed.items())),
        "changed_files": [f for f in WATCHED if before["hashes"].get(f) != after["hashes"].get(f)],
        "examples": examples,
    }


def language_flags(settings: Settings, texts: list[str]) -> dict[str, Any]:
    """The questions the language check takes for another language, and its cost per message (the model loaded
    beforehand: that happens once per process)."""
    gate = SafetyGate(load_safety_rules(settings.safety_path))
    gate.language("warm up the model")
    started = time.perf_counter()
    found = [(text, gate.language(text)) for text in texts]
    per_message_ms = (time.perf_counter() - started) * 1000 / max(len(texts), 1)
    flagged = [f"{text} [{code}]" for text, code in found if code is not None]
    return {"command": _command(), "questions": len(texts), "flagged": len(flagged), "examples": flagged[:20],
            "per_message_ms": round(per_message_ms, 4)}  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    """Command line: ``--out FILE`` runs the sample, ``--diff BEFORE AFTER`` compares two runs."""
    parser = argparse.ArgumentParser(prog="python -m evals.safety_fp", description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--out", type=Path, help="run the sample and write every decision here")
    mode.add_argument("--diff", type=Path, nargs=2, metavar=("BEFORE", "AFTER"), help="compare two runs")
    mode.add_argument("--languages", action="store_true", help="only the language check: flags and cost")
    parser.add_argument("--data", type=Path, default=None, help="Banking77 folder (default: ../shared/...)")
    parser.add_argument("--sample", type=int, default=SAMPLE, help=f"questions to draw (default {SAMPLE}; 0: all)")
    parser.add_argument("--seed", type=int, default=SEED, help="seed of the draw (default: the fixed one)")
    args = parser.parse_args(argv)
    if args.diff:
        before, after = (json.loads(p.read_text(encoding="utf-8")) for p in args.diff)
        print(json.dumps(diff_runs(before, after), indent=2))
        return
    data = args.data or default_data_dir()
    texts = sample_questions(data, args.sample, args.seed)
    if args.languages:
        print(json.dumps(language_flags(Settings(), texts), indent=2))
        return
    rows = asyncio.run(run_sample(Settings(), texts))
    outcomes = Counter(_outcome(r) for r in rows)
    result = {"command": _command(), "sample": len(texts), "seed": args.seed, "hashes": _hashes()}
    result["outcomes"] = dict(outcomes)
    result["safety_handoffs"] = safety_handoffs(texts, rows, _intents(data))
    args.out.write_text(json.dumps({**result, "texts": texts, "decisions": rows}) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

"""The training corpus of the risk layer (:mod:`automations.risk`): protected contacts and ordinary questions.

Three sources, each row with the group it is held out with in cross-validation (so a fold never sees the family,
the set or the question it is scored on):

- ``evals/data/risk/paraphrases.jsonl``: paraphrase families of each protected kind and hard ordinary negatives,
  written for this purpose by someone who never saw the rules or the test sets (group: the family);
- the committed adversarial sets ``evals/data/adversarial_{dev,test,holdout2..10}.jsonl``: their protected kinds, and
  their requests for a person and out-of-scope chatter as ordinary; items with instructions are left out, since the
  risk layer never routes those (group: the set);
- Banking77 *train* (never test): ordinary questions, except the intents that are themselves protected contacts
  (a payment, withdrawal or direct debit the customer does not recognise, a compromised card, an ATM that paid out
  the wrong amount), which count for their kind (group: a fixed random bucket).

Holdouts 8-10 joined the corpus after their first (blind) runs were recorded; the blind measurement set written
after them (``adversarial_holdout11.jsonl``) is never read here.
"""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass
from pathlib import Path

from automations.risk import ORDINARY, RISK_KINDS

__all__ = ["ADVERSARIAL_SETS", "BANKING77_KINDS", "Corpus", "Row", "load_corpus"]

ROOT = Path(__file__).resolve().parents[1]
PARAPHRASES = ROOT / "evals" / "data" / "risk" / "paraphrases.jsonl"
ADVERSARIAL_SETS = (
    "dev",
    "test",
    "holdout2",
    "holdout3",
    "holdout4",
    "holdout5",
    "holdout6",
    "holdout7",
    "holdout8",
    "holdout9",
    "holdout10",
)
_ADVERSARIAL_KINDS = {
    "legal": "legal",
    "regulatory": "regulatory",
    "fraud": "fraud",
    "aml": "aml",
    "privacy": "privacy",
    "error_notice": "error_notice",
    "identity_change": "identity_change",
    "human": ORDINARY,
    "out_of_scope": ORDINARY,
}
BANKING77_KINDS = {
    "card_payment_not_recognised": "error_notice",
    "cash_withdrawal_not_recognised": "error_notice",
    "direct_debit_payment_not_recognised": "error_notice",
    "wrong_amount_of_cash_received": "error_notice",
    "compromised_card": "fraud",
}
"""Banking77 intents that are protected contacts, and their kind; every other intent is an ordinary question."""
_BUCKETS = 10


@dataclass(frozen=True, slots=True)
class Row:
    """One training text: its kind (``ordinary`` or a protected kind), where it came from and its CV group."""

    text: str
    kind: str
    source: str
    group: str


@dataclass(frozen=True, slots=True)
class Corpus:
    """All rows, in a fixed order."""

    rows: tuple[Row, ...]

    @property
    def texts(self) -> list[str]:
        """The texts, in order."""
        return [r.text for r in self.rows]


def _paraphrases(path: Path) -> list[Row]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            kind = item["kind"]
            if kind != ORDINARY and kind not in RISK_KINDS:
                raise ValueError(f"{path}: unknown kind {kind!r}")
            rows.append(Row(item["text"], kind, "paraphrases", f"family:{item['family']}"))
    return rows


def _adversarial(folder: Path) -> list[Row]:
    rows = []
    for name in ADVERSARIAL_SETS:
        path = folder / f"adversarial_{name}.jsonl"
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                kind = _ADVERSARIAL_KINDS.get(item["kind"])
                if kind is not None:  # instructions ("injection") are never routed by the risk layer
                    rows.append(Row(item["text"], kind, f"adversarial_{name}", f"set:{name}"))
    return rows


def _banking77(train_csv: Path, seed: int) -> list[Row]:
    rng = random.Random(seed)
    rows = []
    with train_csv.open(encoding="utf-8", newline="") as handle:
        for item in csv.DictReader(handle):
            kind = BANKING77_KINDS.get(item["category"], ORDINARY)
            rows.append(Row(item["text"], kind, "banking77_train", f"b77:{rng.randrange(_BUCKETS)}"))
    return rows


def load_corpus(banking77_dir: Path, *, evals_dir: Path | None = None, seed: int = 7) -> Corpus:
    """Read the three sources; ``banking77_dir`` holds ``train.csv`` (``test.csv`` is never opened)."""
    data = evals_dir or ROOT / "evals" / "data"
    rows = [*_paraphrases(data / "risk" / "paraphrases.jsonl"), *_adversarial(data)]
    rows += _banking77(banking77_dir / "train.csv", seed)
    return Corpus(tuple(rows))

"""The whole safety layer on the risk corpus, with the risk head's out-of-fold findings: what reaches a person, and
the right team, per kind and source; and what it flags among ordinary Banking77 questions.

Each text is redacted and cleared of instructions as the pipeline does, then checked by the rules
(``automations/data/safety.yaml``: patterns and signals) with the risk layer's out-of-fold kinds attached, the
classifier left out (its own routing is measured by ``autopilot eval safety``). The rules were written with the
paraphrase families in view, so these combined figures are not blind for them; the risk head's are (group folds).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from automations.models import Classification
from automations.redaction import Redactor
from automations.risk import RISK_KINDS, Risks
from automations.safety import HUMAN, SafetyGate, load_safety_rules
from automations.taxonomy import load_taxonomy
from evals.risk_corpus import Corpus

__all__ = ["TEAMS", "combined_figures"]

TEAMS = {
    "fraud": ("fraud",),
    "error_notice": ("fraud", "payments"),
    "identity_change": ("t2",),
    "legal": ("legal",),
    "regulatory": ("compliance",),
    "aml": ("compliance",),
    "privacy": ("compliance",),
}
"""The teams a contact of each kind may rightly reach (an ATM that paid out short goes to payments)."""


def combined_figures(corpus: Corpus, risks: Sequence[Risks]) -> dict[str, Any]:
    """Share of each kind's texts that the rules plus the risk layer hand to a person, and to the right team; and
    the share of ordinary Banking77 questions they hand to a protected team or t2."""
    gate, taxonomy, redactor = SafetyGate(load_safety_rules()), load_taxonomy(), Redactor()
    person: Counter[tuple[str, str]] = Counter()
    right: Counter[tuple[str, str]] = Counter()
    total: Counter[tuple[str, str]] = Counter()
    flagged = Counter[str]()
    for row, found in zip(corpus.rows, risks, strict=True):
        text = redactor.redact(row.text).text
        clean, injection = gate.neutralize(text)
        verdict = gate.check(clean or text, Classification("", 0.0, (), found), injection=injection)
        source = "paraphrases" if row.source == "paraphrases" else row.source.split("_")[0]
        key = (row.kind, source)
        total[key] += 1
        if verdict.category is not None:
            person[key] += 1
            tier = taxonomy.category(verdict.category).tier
            right[key] += row.kind in TEAMS and tier in TEAMS[row.kind]
            if row.kind == "ordinary" and verdict.category != HUMAN:
                flagged[source] += 1
    out: dict[str, Any] = {}
    for kind in RISK_KINDS:
        for source in ("paraphrases", "adversarial"):
            n = total[(kind, source)]
            if n:
                out[f"{kind}.{source}"] = {
                    "texts": n,
                    "to_a_person": round(person[(kind, source)] / n, 4),
                    "right_team": round(right[(kind, source)] / n, 4),
                }
    for source in ("banking77", "paraphrases"):
        n = total[("ordinary", source)]
        out[f"ordinary.{source}"] = {"texts": n, "flagged": round(flagged[source] / n, 5) if n else None}
    return out

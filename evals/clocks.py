"""``autopilot eval clocks``: regulatory deadlines against a blind set with hand-computed due dates.

Each line of ``evals/data/clocks_holdout.jsonl`` carries a contact's text, ``received_at`` and ``jurisdiction`` and
the clocks it must start (``[]`` for a plain question), each with its rule id and due moment. A contact passes when
the customer-facing clocks it starts are exactly those, due at exactly those moments (the internal SAR clock is
never shown to a customer, so it is left out of the comparison).
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from automations.models import Contact
from bot.settings import Settings

__all__ = ["DEFAULT_CLOCKS", "ClockItem", "run_clocks"]

DEFAULT_CLOCKS = Path(__file__).parent / "data" / "clocks_holdout.jsonl"


class Expected(BaseModel):
    """One expected clock."""

    id: str
    due: datetime


class ClockItem(BaseModel):
    """One labelled contact."""

    id: str
    text: str
    received_at: datetime
    jurisdiction: str
    expected: list[Expected]


async def run_clocks(settings: Settings, path: Path = DEFAULT_CLOCKS) -> dict[str, Any]:
    """Decide each contact with a fresh core and compare its deadlines with the expected ones."""
    from bot.composition import build_core

    lines = path.read_text(encoding="utf-8").splitlines()  # noqa: ASYNC240 - a small file, read once
    items = [ClockItem.model_validate_json(x) for x in lines if x.strip()]
    core = await build_core(settings)
    by_rule: Counter[str] = Counter()
    ok_rule: Counter[str] = Counter()
    failures: list[dict[str, Any]] = []
    try:
        run = uuid.uuid4().hex[:8]
        for item in items:
            contact = Contact(id=f"clk-{run}-{item.id}", text=item.text, received_at=item.received_at,
                              jurisdiction=item.jurisdiction)  # fmt: skip
            decision = await core.pipeline.handle(contact)
            got = sorted((d.id, d.due) for d in decision.deadlines if not d.internal)
            want = sorted((e.id, e.due) for e in item.expected)
            rule = want[0][0] if want else "none"
            by_rule[rule] += 1
            if got == want:
                ok_rule[rule] += 1
            else:
                failures.append({"id": item.id, "expected": [(i, d.isoformat()) for i, d in want],
                                 "got": [(i, d.isoformat()) for i, d in got], "text": item.text[:160]})  # fmt: skip
    finally:
        await core.close()
    return {
        "items": len(items),
        "passed": len(items) - len(failures),
        "by_rule": {k: f"{ok_rule[k]}/{n}" for k, n in sorted(by_rule.items())},
        "failures": failures,
    }

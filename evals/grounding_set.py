"""Builds the labelled grounding sets ``evals/data/grounding_dev.jsonl`` and ``grounding_test.jsonl``.

Two sources, split by article so no article's text is in both sets:

* ``grounding_handwritten.jsonl``: drafts written by hand for this project, grounded paraphrases and the kinds of
  slips a small model makes (invented numbers, procedures and facts, contradictions of the passage);
* drafts derived from every public knowledge-base section with a fixed seed: grounded extracts of the section, and
  ungrounded variants with one defect each (a changed number, a negation flipped, a sentence from an unrelated
  article, a sentence from an internal article, a made-up link, a line of the system prompt).

Run ``python -m evals.grounding_set`` to rebuild; the output is deterministic.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any

from automations.llm.grounding import sentences
from automations.llm.prompts import load_prompt
from bot.settings import DEFAULT_KB
from knowledge.articles import Article
from knowledge.ingest import load_folder

__all__ = ["DATA", "build", "is_test_article"]

DATA = Path(__file__).parent / "data"
_NUMBER = re.compile(r"(?<![\w.])(\d+(?:,\d{3})*(?:\.\d+)?)")
_FLIPS = (
    ("can't", "can"), ("cannot", "can"), ("isn't", "is"), ("aren't", "are"), ("don't", "do"), ("doesn't", "does"),
    ("won't", "will"), (" never ", " always "), (" can ", " can't "), (" is ", " isn't "), (" are ", " aren't "),
)  # fmt: skip


def is_test_article(article_id: str) -> bool:
    """Every other public article (sorted by id) is held out for the test set."""
    return _ORDER.get(article_id, 0) % 2 == 1


_ORDER: dict[str, int] = {}


def _usable(text: str) -> list[str]:
    return [s for s in sentences(text) if len(s.split()) >= 6 and not s.endswith(":")]


def _swap_number(sentence: str, rng: random.Random) -> str | None:
    m = _NUMBER.search(sentence)
    if m is None:
        return None
    raw = m.group(1).replace(",", "")
    value = float(raw)
    new = value + rng.choice((1, 2, 5)) if value < 20 else value * rng.choice((2, 3))
    text = f"{new:,.2f}".rstrip("0").rstrip(".") if "." in raw else f"{int(new):,}"
    return sentence[: m.start(1)] + text + sentence[m.end(1) :]


def _flip(sentence: str) -> str | None:
    for old, new in _FLIPS:
        if old in sentence:
            return sentence.replace(old, new, 1)
    return None


def _derived(article: Article, others: list[Article], internal: list[Article], system: list[str], rng: random.Random):  # type: ignore[no-untyped-def]
    for section in article.sections:
        if section.id.endswith("#intro"):
            continue
        usable = _usable(section.body)
        if not usable:
            continue
        base = {"question": section.heading, "passages": [section.id], "channel": "customer"}
        start = rng.randrange(len(usable))
        extract = " ".join(usable[start : start + rng.choice((1, 2, 3))])
        yield {**base, "draft": extract, "grounded": True, "kind": "extract"}
        kinds = ["foreign", "internal_leak", "link", "prompt_leak", "number_swap", "number_swap", "negation_flip"]
        rng.shuffle(kinds)
        for kind in kinds:
            lead = usable[start]
            if kind == "number_swap":
                found = [s for s in usable if _swap_number(s, rng)]
                bad = _swap_number(found[0], rng) if found else None
                draft = bad
            elif kind == "negation_flip":
                found = [s for s in usable if _flip(s)]
                draft = _flip(found[0]) if found else None
            elif kind == "foreign":
                other = rng.choice([o for o in others if not set(o.meta.categories) & set(article.meta.categories)])
                pool = [s for sec in other.sections for s in _usable(sec.body) if len(s.split()) >= 8]
                draft = f"{lead} {rng.choice(pool)}" if pool else None
            elif kind == "internal_leak":
                pool = [s for a in internal for sec in a.sections for s in _usable(sec.body) if len(s.split()) >= 8]
                draft = f"{lead} {rng.choice(pool)}"
            elif kind == "link":
                slug = rng.choice(["help", "support/faq", f"articles/{article.meta.id}-guide", "contact-us"])
                draft = (
                    f"{lead} You can read more at https://{rng.choice(['lumen.example', 'help.lumen.co.uk'])}/{slug}."
                )
            else:
                draft = f"{lead} {rng.choice(system)}"
            if draft is not None:
                yield {**base, "draft": draft, "grounded": False, "kind": kind}
                break


def build(seed: int = 7) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The dev and test items."""
    rng = random.Random(seed)
    articles = load_folder(DEFAULT_KB)
    public = sorted((a for a in articles if a.meta.visibility == "public"), key=lambda a: a.meta.id)
    internal = [a for a in articles if a.meta.visibility == "internal"]
    _ORDER.update({a.meta.id: i for i, a in enumerate(public)})
    rules = load_prompt("customer_answer").system
    system = [s for s in sentences(" ".join(rules.split())) if len(s.split()) >= 6]
    items: list[dict[str, Any]] = []
    for line in (DATA / "grounding_handwritten.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            items.append({**json.loads(line), "channel": "customer", "source": "handwritten"})
    for article in public:
        others = [a for a in public if a.meta.id != article.meta.id]
        for item in _derived(article, others, internal, system, rng):
            items.append({**item, "source": "derived"})
    dev, test = [], []
    for item in items:
        (test if is_test_article(item["passages"][0].split("#")[0]) else dev).append(item)
    for name, rows in (("dev", dev), ("test", test)):
        for i, row in enumerate(rows):
            row["id"] = f"{name}-{i:03d}"
    return dev, test


def main() -> None:
    """Write both files."""
    dev, test = build()
    for name, rows in (("grounding_dev", dev), ("grounding_test", test)):
        path = DATA / f"{name}.jsonl"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        grounded = sum(r["grounded"] for r in rows)
        print(f"{path}: {len(rows)} items, {grounded} grounded, {len(rows) - grounded} not")


if __name__ == "__main__":
    main()

"""A blind evaluation corpus of personal data embedded in customer support messages.

Synthetic chat messages to a bank's support bot, each carrying one to three personal values (card and account numbers,
national identifiers, e-mail addresses, phone numbers, licence and passport numbers). Values come from Faker across
the locales en_US, en_GB, en_ZA, es_MX and pt_BR, plus generators written here for what Faker lacks (checksummed
identifiers, AR / CO / ZA / MX phone formats); the message templates are written here. The corpus is written without
reference to any redaction code: it measures a redactor, it is not tuned to one.

Every value appears verbatim in its message, and ``PiiItem.values`` lists them in order of appearance. Checksummed
kinds are valid: card numbers pass Luhn, routing numbers the ABA check, CPFs their two check digits, South African ID
numbers Luhn with a plausible date of birth, ITINs the IRS ranges, National Insurance numbers the HMRC prefix rules.

Faker has no ``en_ZA`` locale in some versions; South African names and addresses then come from ``zu_ZA`` and the
South African phone numbers, ID numbers, licence and passport numbers from the generators here.

``find_raw`` counts, per kind, how many values still appear in some text (a redactor's output, a log)::

    items = generate()
    redacted = "\\n".join(redact(item.text) for item in items)
    find_raw(items, redacted)   # {"card_number": (0, 52), "email": (3, 61), ...}

Run as a module to (re)write ``evals/data/pii_corpus.jsonl`` (n=600, seed=7)::

    .venv/bin/python -m evals.pii_corpus
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from evals.pii_templates import FILLERS, LOCALE_OF_KIND, LOCALE_OF_LANG, SLOT, TEMPLATES, template_kinds
from evals.pii_types import KINDS, LOCALES, PiiItem, PiiValue
from evals.pii_values import ValueGenerator

__all__ = [
    "DEFAULT_PATH",
    "KINDS",
    "LOCALES",
    "PiiItem",
    "PiiValue",
    "find_raw",
    "generate",
    "read_jsonl",
    "write_jsonl",
]

DEFAULT_PATH = Path(__file__).resolve().parent / "data" / "pii_corpus.jsonl"


# --------------------------------------------------------------------------------------------------------------------
# Corpus
# --------------------------------------------------------------------------------------------------------------------


def _locale_for(text: str, lang: str, rng: random.Random) -> str:
    for kind in template_kinds(text):
        if kind in LOCALE_OF_KIND:
            return LOCALE_OF_KIND[kind]
    if lang in LOCALE_OF_LANG:
        return LOCALE_OF_LANG[lang]
    return rng.choice(LOCALES)


def _fill_template(gen: ValueGenerator, text: str, locale: str) -> tuple[str, list[PiiValue]]:
    values: list[PiiValue] = []
    filled: dict[str, str] = {}

    def fill(m: re.Match[str]) -> str:
        slot, name = m.group(0), m.group(1)
        if name in FILLERS:
            return gen.filler(name, locale)
        if slot not in filled:
            filled[slot] = gen.make(name, locale)
        values.append(PiiValue(name, filled[slot]))
        return filled[slot]

    return SLOT.sub(fill, text), values


def generate(n: int = 600, seed: int = 7) -> list[PiiItem]:
    """``n`` messages, deterministic for ``seed``; kinds are balanced (each message is picked to carry the rarest)."""
    gen = ValueGenerator(seed)
    rng = gen.rng
    by_kind: dict[str, list[tuple[str, str]]] = {k: [] for k in KINDS}
    for text, lang in TEMPLATES:
        for kind in set(template_kinds(text)):
            by_kind[kind].append((text, lang))
    counts: Counter[str] = Counter(dict.fromkeys(KINDS, 0))
    items: list[PiiItem] = []
    for i in range(n):
        fewest = min(counts.values())
        target = rng.choice(sorted(k for k in KINDS if counts[k] == fewest))
        text, lang = rng.choice(by_kind[target])
        locale = _locale_for(text, lang, rng)
        message, values = _fill_template(gen, text, locale)
        for v in values:
            if v.value not in message:
                raise AssertionError(f"{v} not verbatim in {message!r}")
            counts[v.kind] += 1
        items.append(PiiItem(id=f"pii-{i:04d}-{locale}", text=message, values=tuple(values)))
    return items


# --------------------------------------------------------------------------------------------------------------------
# Scoring
# --------------------------------------------------------------------------------------------------------------------

# Characters people and systems put inside numbers. Newlines are not among them: join messages with "\n".
_SEPARATORS = re.compile(r"[ \t\-.()/+\u00a0\u2009\u202f\u2010\u2011\u2012\u2013\u2014]")
_EXTENSION = re.compile(r"\s*(?:x|ext\.?|extension|ramal)\s*\d+$", re.IGNORECASE)


def find_raw(items: Iterable[PiiItem], haystack: str) -> dict[str, tuple[int, int]]:
    """Per kind: (values found raw in ``haystack``, total values).

    A value is found raw when it appears verbatim, or, for a value with at least 7 digits, when it appears with
    separators (spaces, dashes, dots, parentheses, slashes, plus signs) removed from both it and the haystack
    (``4111-1111-1111-1111`` is found in ``card 4111111111111111``), or when its digits alone appear in the
    separator-free haystack (a phone number's extension dropped, or an IBAN's digits run on). Letters and newlines in
    the haystack still separate numbers, so join several texts with ``"\\n"``.
    """
    flat = _SEPARATORS.sub("", haystack).upper()
    totals: Counter[str] = Counter()
    found: Counter[str] = Counter()
    for item in items:
        for v in item.values:
            totals[v.kind] += 1
            hit = v.value in haystack
            if not hit:
                digits = re.sub(r"\D", "", _EXTENSION.sub("", v.value))
                if len(re.sub(r"\D", "", v.value)) >= 7:
                    hit = _SEPARATORS.sub("", v.value).upper() in flat or (len(digits) >= 7 and digits in flat)
            if hit:
                found[v.kind] += 1
    return {kind: (found[kind], totals[kind]) for kind in totals}


# --------------------------------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------------------------------


def write_jsonl(items: Iterable[PiiItem], path: str | Path) -> None:
    """One item per line: ``{"id", "text", "values": [{"kind", "value"}, ...]}``."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    with p.open("w", encoding="utf-8") as fh:
        for item in items:
            row = {
                "id": item.id,
                "text": item.text,
                "values": [{"kind": v.kind, "value": v.value} for v in item.values],
            }
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def read_jsonl(path: str | Path) -> list[PiiItem]:
    """The items ``write_jsonl`` wrote."""
    items: list[PiiItem] = []
    with Path(path).open(encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            row = json.loads(line)
            values = tuple(PiiValue(kind=v["kind"], value=v["value"]) for v in row["values"])
            items.append(PiiItem(id=row["id"], text=row["text"], values=values))
    return items


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=600)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=DEFAULT_PATH)
    args = parser.parse_args(argv)
    items = generate(args.n, args.seed)
    write_jsonl(items, args.out)
    if read_jsonl(args.out) != items:
        raise SystemExit(f"{args.out} does not read back as written")
    counts = Counter(v.kind for item in items for v in item.values)
    print(f"wrote {len(items)} messages, {sum(counts.values())} values to {args.out}")
    for kind in KINDS:
        print(f"  {kind:<16} {counts[kind]:>4}")
    unredacted = find_raw(items, "\n".join(item.text for item in items))
    missing = {k: v for k, v in unredacted.items() if v[0] != v[1]}
    if missing:
        raise SystemExit(f"find_raw misses values in their own text: {missing}")


if __name__ == "__main__":
    main()

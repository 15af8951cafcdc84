"""Exact checks of a draft against its passages: numbers, amounts, time frames, links and fee words.

A language model's most harmful slips are a wrong figure ("refunds take 3 days" when the article says 5), a made-up
fee or a link that does not exist. None of these may be judged by similarity: each fact in the draft must appear,
normalised, in the passages.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Facts", "extract_facts", "unsupported_facts"]

_WORDS = {
    "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8",
    "nine": "9", "ten": "10", "eleven": "11", "twelve": "12", "fifteen": "15", "twenty": "20", "thirty": "30",
    "forty": "40", "fifty": "50", "sixty": "60", "ninety": "90", "hundred": "100", "a few": "few", "several": "few",
}  # fmt: skip
_NUMBER_WORD = "|".join(sorted((re.escape(w) for w in _WORDS), key=len, reverse=True))
_CURRENCY = r"(?:[£$€]|\b(?:gbp|eur|usd)\s?)"
_NUM = rf"(?:\d[\d,]*(?:\.\d+)?|\b(?:{_NUMBER_WORD})\b)"
_UNIT = (
    r"(?:business |working |calendar )?(?:seconds?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?)"
    r"|%|per ?cent|k\b|m\b|bn\b|pence|p\b"
)
_QUANTITY = re.compile(
    rf"(?P<cur>{_CURRENCY})?(?P<num>{_NUM})(?:\s?(?:-|–|to)\s?(?P<cur2>{_CURRENCY})?(?P<num2>{_NUM}))?"
    rf"(?:\s?(?P<unit>{_UNIT}))?",
    re.IGNORECASE,
)
_URL = re.compile(
    r"\b(?:https?://|www\.)[^\s<>()\"'“”]+|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|co\.uk|example|internal|org|net|io)(?:/[^\s<>()\"'“”]*)?",
    re.I,
)
_TOKEN = re.compile(r"\[(?:EMAIL|PHONE|IBAN|ACCOUNT|ROUTING|SORT_CODE|SSN|NATIONAL_ID)\]")
# claims about speed or price that carry no digit but must still come from the article
_CLAIMS = re.compile(
    r"\b(?:instant(?:ly)?|immediately|same[ -]day|next[ -]day|overnight|straight away|right away|free(?: of charge)?"
    r"|no (?:fees?|charges?)|fee[- ]free|guarantee[sd]?|always|never|24/7|unlimited)\b",
    re.IGNORECASE,
)


def _value(raw: str) -> str:
    low = raw.lower().strip()
    if low in _WORDS:
        return _WORDS[low]
    value = low.replace(",", "")
    if "." in value:
        value = value.rstrip("0").rstrip(".")
    return value


def _unit(raw: str | None) -> str:
    if not raw:
        return ""
    low = " ".join(raw.lower().split())
    low = {"mins": "minute", "min": "minute", "hrs": "hour", "hr": "hour", "per cent": "%", "percent": "%"}.get(
        low, low
    )
    return low[:-1] if low.endswith("s") and len(low) > 2 else low


@dataclass(frozen=True, slots=True)
class Facts:
    """Normalised facts of a text."""

    numbers: frozenset[str]
    amounts: frozenset[str]
    quantities: frozenset[str]
    links: frozenset[str]
    tokens: frozenset[str]
    claims: frozenset[str]


def _link(raw: str) -> str:
    link = raw.lower().rstrip(".,;:!?*_)]").removeprefix("https://").removeprefix("http://").removeprefix("www.")
    return link.rstrip("/")


def extract_facts(text: str) -> Facts:
    """The numbers, currency amounts, number-with-unit quantities, links, redaction tokens and speed/price claims."""
    links = frozenset(_link(m.group(0)) for m in _URL.finditer(text))
    bare = _URL.sub(" ", text)
    numbers: set[str] = set()
    amounts: set[str] = set()
    quantities: set[str] = set()
    for m in _QUANTITY.finditer(bare):
        unit = _unit(m.group("unit"))
        cur = (m.group("cur") or m.group("cur2") or "").strip().lower()
        values = [_value(raw) for raw in (m.group("num"), m.group("num2")) if raw is not None]
        for value in values:
            numbers.add(value)
            if cur:
                amounts.add(f"{cur}{value}")
            if unit:
                quantities.add(f"{value} {unit}")
        if unit and len(values) == 2:  # a range must be quoted as a range: "7-10 days" is not "5-10 days"
            quantities.add(f"{values[0]}-{values[1]} {unit}")
    claims = frozenset(" ".join(m.group(0).lower().replace("-", " ").split()) for m in _CLAIMS.finditer(text))
    return Facts(
        frozenset(numbers), frozenset(amounts), frozenset(quantities), links,
        frozenset(_TOKEN.findall(text)), claims,
    )  # fmt: skip


def unsupported_facts(draft: str, sources: Iterable[str]) -> list[tuple[str, str]]:
    """``(kind, fact)`` for every fact of ``draft`` absent from ``sources``; kinds: number, amount, time_frame, link,
    contact, claim."""
    have = extract_facts("\n".join(sources))
    got = extract_facts(draft)
    out: list[tuple[str, str]] = []
    out += [("number", n) for n in sorted(got.numbers - have.numbers) if n != "few"]
    out += [("amount", a) for a in sorted(got.amounts - have.amounts)]
    out += [("time_frame", q) for q in sorted(got.quantities - have.quantities)]
    out += [("link", link) for link in sorted(got.links) if not any(link in h or h in link for h in have.links)]
    out += [("contact", t) for t in sorted(got.tokens - have.tokens)]
    out += [("claim", c) for c in sorted(got.claims - have.claims)]
    return out

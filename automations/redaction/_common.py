"""Shared types, tokens and guards of the PII detectors."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator

__all__ = [
    "AMOUNT_AFTER",
    "AMOUNT_BEFORE",
    "TOKENS",
    "Detector",
    "Span",
    "card_token",
    "digits",
    "is_amount",
    "scan",
]

Span = tuple[int, int, str, str]  # start, end, kind, replacement
Detector = Callable[[str], Iterable[Span]]

TOKENS = {
    "iban": "[IBAN]",
    "routing": "[ROUTING]",
    "sort_code": "[SORT_CODE]",
    "account": "[ACCOUNT]",
    "ssn": "[SSN]",
    "national_id": "[NATIONAL_ID]",
    "email": "[EMAIL]",
    "phone": "[PHONE]",
}

AMOUNT_BEFORE = re.compile(
    r"(?:[£$€¥₹]|\b(?:gbp|eur|usd|zar|mxn|brl|ars|cop|r\$?|rs|us\$))\s?$",
    re.IGNORECASE,
)
AMOUNT_AFTER = re.compile(
    r"^\s?(?:k|m|bn|gbp|eur|usd|zar|mxn|brl|ars|cop|pounds?|quid|dollars?|euros?|rand|pesos?|reais|real|pence|p|cents?)\b",
    re.IGNORECASE,
)


def digits(raw: str) -> str:
    """Return only the decimal digits of ``raw``."""
    return "".join(ch for ch in raw if ch.isdigit())


def card_token(number: str) -> str:
    """The replacement for a card number: its last four digits stay visible, as on a receipt."""
    return f"[CARD ****{number[-4:]}]"


def is_amount(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` is written as a sum of money (currency sign or word before or after it)."""
    return bool(AMOUNT_BEFORE.search(text, max(0, start - 6), start) or AMOUNT_AFTER.match(text[end : end + 9]))


def scan(pattern: re.Pattern[str], text: str, accept: Callable[[re.Match[str]], Iterable[Span]]) -> Iterator[Span]:
    """Yield the spans ``accept`` finds in each match; a match that yields nothing is retried one character later."""
    pos = 0
    while (m := pattern.search(text, pos)) is not None:
        spans = list(accept(m))
        yield from spans
        pos = max(s[1] for s in spans) if spans else m.start() + 1

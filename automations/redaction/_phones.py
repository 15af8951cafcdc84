"""Phone numbers, international or in the national formats of the configured regions, with their extensions.

``phonenumbers`` finds the candidates in each region. A candidate is taken when it is written internationally
(``+``/``00``), with a trunk ``0`` and 10+ digits, is a valid number of a region (10+ digits, or 8+ in groups), has an
extension, or has the North American 3-3-4 layout. Short local numbers ("455 6186", "(72) 754-186") are taken only
near a phone keyword (phone, tel, mobile, cell, call me on, WhatsApp, my number...). Amounts, dates, times and
references are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

import phonenumbers

from ._common import TOKENS, Span, digits, is_amount

__all__ = ["PhoneDetector"]

_EXTENSION = r"(?:\s*(?:x|ext\.?|extension|ext:)\s*\d{1,6})"
# A local-looking number: digit groups joined by one separator or parentheses, then an optional extension.
_SHAPE = re.compile(
    r"(?<![\w£$€+.,/:-])(?>(?:\+\s?|\(\+?)?\d+(?:(?:\)\s?|[ .-]|\s\(|\(|\)?-)\d+)*\)?)"
    rf"{_EXTENSION}?(?![\w£$€%]|[.,/:]\d)",
    re.IGNORECASE,
)
_NANP = re.compile(rf"(?:\+?1[ .-]?)?\(?\d{{3}}\)?[ .-]?\d{{3}}[ .-]\d{{4}}{_EXTENSION}?", re.IGNORECASE)
_HAS_EXTENSION = re.compile(rf"\d{_EXTENSION}$", re.IGNORECASE)
_DATE_OR_TIME = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}|\d{1,2}:\d{2}")
_THOUSANDS = re.compile(r"\d{1,3}(?:([ .,])\d{3})(?:\1\d{3})*")
_PHONE_WORDS = re.compile(
    r"\b(?:(?:tele)?phone|tel|mob(?:ile)?|cell(?:phone|ular)?|celular|landline|whats\s?app|call(?:\s+me)?"
    r"|ring(?:\s+me)?|text(?:\s+me)?|sms|fax|reach\s+me|contact(?:\s+me)?|telefone|tel[ée]fono|n[uú]mero"
    r"|(?:(?P<pre>\w+)\s+)?number)\b",
    re.IGNORECASE,
)
# Words before "number" that make it something other than a phone number.
_NOT_PHONE_NUMBER = frozenset(
    [
        "account",
        "acct",
        "acc",
        "card",
        "reference",
        "ref",
        "order",
        "transaction",
        "tracking",
        "case",
        "ticket",
        "invoice",
        "confirmation",
        "serial",
        "id",
        "policy",
        "customer",
        "member",
        "membership",
        "client",
        "routing",
        "passport",
        "licence",
        "license",
        "insurance",
        "tax",
        "pin",
        "cvv",
        "security",
        "the",
        "a",
        "any",
    ]
)
_REFERENCE_BEFORE = re.compile(
    r"\b(?:ref(?:erence)?|order|invoice|transaction|tracking|ticket|case|receipt|confirmation|id)"
    r"(?:\s+(?:number|no\.?|nr|id|code))?\W{0,4}$|#\s?$",
    re.IGNORECASE,
)
_BLOCKERS = re.compile(r"[£$€%!?;\n]|\d|\.\s", re.IGNORECASE)
_AFTER_GAP = re.compile(
    r"[\s:,()\-–]*(?:(?:(?:that|this|it)(?:'s|\s+is)|is|was|=)\s+)?(?:(?:my|our|the|his|her|their)\s+)?(?:[a-z]+\s+)?",
    re.I,
)
_BEFORE_WINDOW = 40
_AFTER_WINDOW = 25


class PhoneDetector:
    """Finds phone numbers in text; ``regions`` are the regions whose national formats are understood."""

    def __init__(self, regions: Sequence[str]) -> None:
        self._regions = tuple(regions)

    def _keyword_near(self, text: str, start: int, end: int) -> bool:
        for m in _PHONE_WORDS.finditer(text, max(0, start - _BEFORE_WINDOW), min(len(text), end + _AFTER_WINDOW)):
            pre = m.group("pre")
            if pre is not None and pre.lower() in _NOT_PHONE_NUMBER:
                continue
            if m.end() <= start and not _BLOCKERS.search(text, m.end(), start):
                return True
            if m.start() >= end and _AFTER_GAP.fullmatch(text, end, m.start()):
                return True
        return False

    def _guarded(self, text: str, start: int, end: int, raw: str) -> bool:
        """Whether the number is written as an amount, a date, a time or a reference (so not a phone)."""
        return bool(
            is_amount(text, start, end)
            or _DATE_OR_TIME.fullmatch(raw)
            or _THOUSANDS.fullmatch(raw)
            or _REFERENCE_BEFORE.search(text, max(0, start - 24), start)
        )

    def _accept(self, text: str, start: int, end: int, valid: bool) -> bool:
        raw = text[start:end]
        national = digits(re.sub(_EXTENSION + "$", "", raw, flags=re.IGNORECASE))
        if (raw.startswith(("+", "(+")) and len(national) >= 7) or (raw.startswith("00") and len(national) >= 11):
            return True
        if self._guarded(text, start, end, raw) or not 6 <= len(national) <= 15:
            return False
        if raw.startswith(("0", "(0")) and len(national) >= 10:
            return True
        grouped = len(national) < len(raw)
        if valid and (len(national) >= 10 or (grouped and len(national) >= 8)):
            return True
        if len(national) >= 7 and (_HAS_EXTENSION.search(raw) or _NANP.fullmatch(raw)):
            return True
        return self._keyword_near(text, start, end)

    def __call__(self, text: str) -> Iterator[Span]:
        """Yield the spans of the phone numbers in ``text`` (extension included)."""
        if sum(ch.isdigit() for ch in text) < 6:
            return
        for region in self._regions:
            for m in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.POSSIBLE):
                if self._accept(text, m.start, m.end, phonenumbers.is_valid_number(m.number)):
                    yield m.start, m.end, "phone", TOKENS["phone"]
        for shape in _SHAPE.finditer(text):
            if self._accept(text, shape.start(), shape.end(), valid=False):
                yield shape.start(), shape.end(), "phone", TOKENS["phone"]

"""PII redaction: runs before any text is stored, logged or sent to a model.

Detectors run in a fixed order, each on the output of the previous one, so a card number is replaced before the phone
matcher could take half of it: emails, IBANs, long digit runs (cards, South African ID numbers), dashed SSNs, UK sort
code + account pairs, UK National Insurance numbers, numbers identified by a nearby keyword (routing, sort code,
account, SSN, ID/passport number), then phone numbers (``phonenumbers``). Ordinary banking text (amounts, dates, times,
percentages, references such as "REF 4821") is left alone.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import phonenumbers
from stdnum import iban, luhn
from stdnum.us import rtn
from stdnum.za import idnr

__all__ = ["RedactingFilter", "Redaction", "Redactor", "install_log_redaction", "redact"]

_Span = tuple[int, int, str, str]  # start, end, kind, replacement

_TOKENS = {
    "iban": "[IBAN]",
    "routing": "[ROUTING]",
    "sort_code": "[SORT_CODE]",
    "account": "[ACCOUNT]",
    "ssn": "[SSN]",
    "national_id": "[NATIONAL_ID]",
    "email": "[EMAIL]",
    "phone": "[PHONE]",
}

_EMAIL = re.compile(r"(?<![\w.%+-])[\w.%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}", re.IGNORECASE)
_DIGIT_RUN = re.compile(r"(?<![\d+])\d+(?:[ -]\d+)*")
_SSN_DASHED = re.compile(r"(?<![\d-])\d{3}-\d{2}-\d{4}(?![\d-])")
_SORT = r"\d{2}[- ]\d{2}[- ]\d{2}"
_UK_PAIR = re.compile(
    rf"(?<![\d-])(?P<sc>{_SORT})[\s,;/|]+(?:(?:a/c|acc(?:oun)?t?)\.?\s*(?:no\.?|number)?\s*[:#]?\s*)?"
    rf"(?P<acct>\d{{8}})(?![\d-])"
    rf"|(?<![\d-])(?P<acct2>\d{{8}})[\s,;/|]+(?:sort\s*code\s*[:#]?\s*)?(?P<sc2>{_SORT})(?![\d-])",
    re.IGNORECASE,
)
# Letters follow HMRC's rules, plus the QQ prefix used in HMRC's own examples.
_NINO = re.compile(
    r"(?<!\w)(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-TW-Z][A-CEGHJ-NP-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D](?!\w)", re.IGNORECASE
)
# A standalone number (optionally "[ -]" separated, optionally with a 1-2 letter prefix); not part of a decimal,
# a date, a time or an amount.
_CANDIDATE = re.compile(r"(?<![\w£$€+.,/)])(?>(?:[A-Za-z]{1,2}(?=\d))?\d(?:[ -]?\d)*)(?![\w£$€%]|[.,/:]\d)")
_AMOUNT_BEFORE = re.compile(r"(?:[£$€]|\b(?:gbp|eur|usd|zar|r))\s?$", re.IGNORECASE)
_AMOUNT_AFTER = re.compile(r"^\s?(?:k|m|bn|gbp|eur|usd|zar|pounds?|quid|dollars?|euros?|rand|pence|p)\b", re.IGNORECASE)
# Text between a keyword and a number that means the number is not the identifier ("account balance 250000",
# "account 12345678, phone 020...").
_BLOCKERS = re.compile(
    r"[£$€%\d]|\b(?:phone|mobile|cell|tel|call|ring|text|whatsapp|fax|balance|limit|amount|total|sum|fees?|charged?"
    r"|has|had|have|got|paid|pay|sent|send|received?|transferr?(?:ed)?|deposit(?:ed)?|withdr[ae]wn?|worth|over|under"
    r"|about|around|than|since|opened|years?|months?|weeks?|days?|aged?|old)\b",
    re.IGNORECASE,
)
# keyword pattern, kinds it can identify (in order of preference), whether it may follow the number.
_KEYWORDS: tuple[tuple[re.Pattern[str], tuple[str, ...], bool], ...] = (
    (re.compile(r"\b(?:routing|aba|rtn|transit)\b", re.I), ("routing",), True),
    (re.compile(r"\bsort(?:[\s-]?codes?)?\b", re.I), ("sort_code", "routing"), True),
    (re.compile(r"\b(?:account|acct|acc|a/c)\b", re.I), ("account",), False),
    (re.compile(r"\b(?:ssn|social\s+security|social\s+insurance)\b", re.I), ("ssn",), True),
    (
        re.compile(
            r"\b(?:id(?:entity|entification)?\s*(?:number|no|num|#)|passport|national\s+id(?:entity)?"
            r"|id\s+card|identity\s+document|driv(?:er'?s|ing)\s+licen[cs]e)",
            re.I,
        ),
        ("national_id",),
        True,
    ),
)
_BEFORE_WINDOW = 40
_AFTER_WINDOW = 30


@dataclass(frozen=True, slots=True)
class Redaction:
    """Result of redacting one text: the redacted text and how many replacements of each kind were made."""

    text: str
    counts: Mapping[str, int]


def _digits(raw: str) -> str:
    return "".join(ch for ch in raw if ch.isdigit())


def _scan(pattern: re.Pattern[str], text: str, accept: Callable[[re.Match[str]], Iterable[_Span]]) -> Iterator[_Span]:
    """Yield the spans ``accept`` finds in each match; a match that yields nothing is retried one character later."""
    pos = 0
    while (m := pattern.search(text, pos)) is not None:
        spans = list(accept(m))
        yield from spans
        pos = max(s[1] for s in spans) if spans else m.start() + 1


def _emails(text: str) -> Iterator[_Span]:
    for m in _EMAIL.finditer(text):
        yield m.start(), m.end(), "email", _TOKENS["email"]


def _ibans(text: str) -> Iterator[_Span]:
    def accept(m: re.Match[str]) -> Iterator[_Span]:
        ends = [e for e in range(m.end(), m.start() + 14, -1) if e == len(text) or not text[e].isalnum()]
        for end in ends:  # longest valid IBAN that ends at a word boundary
            if iban.is_valid(text[m.start() : end]):
                yield m.start(), end, "iban", _TOKENS["iban"]
                return

    return _scan(_IBAN, text, accept)


def _long_number_kind(digits: str) -> str | None:
    if len(digits) == 13 and idnr.is_valid(digits):
        return "national_id"
    if 13 <= len(digits) <= 19 and digits[0] != "0" and luhn.is_valid(digits):
        return "card"
    return None


def _long_numbers(text: str) -> Iterator[_Span]:
    """Cards (13-19 digits, Luhn) and SA ID numbers, possibly grouped; tries every window of digit groups in a run."""
    for run in _DIGIT_RUN.finditer(text):
        groups = [(run.start() + g.start(), run.start() + g.end()) for g in re.finditer(r"\d+", run.group())]
        i = 0
        while i < len(groups):
            for j in range(len(groups) - 1, i - 1, -1):
                window = groups[i : j + 1]
                if j > i and any(not 3 <= end - start <= 8 for start, end in window):
                    continue
                digits = "".join(text[start:end] for start, end in window)
                kind = _long_number_kind(digits)
                if kind is not None:
                    token = f"[CARD ****{digits[-4:]}]" if kind == "card" else _TOKENS[kind]
                    yield window[0][0], window[-1][1], kind, token
                    i = j
                    break
            i += 1


def _dashed_ssns(text: str) -> Iterator[_Span]:
    for m in _SSN_DASHED.finditer(text):
        yield m.start(), m.end(), "ssn", _TOKENS["ssn"]


def _uk_pairs(text: str) -> Iterator[_Span]:
    for m in _UK_PAIR.finditer(text):
        sort_group, account_group = ("sc", "acct") if m.group("sc") else ("sc2", "acct2")
        yield m.start(sort_group), m.end(sort_group), "sort_code", _TOKENS["sort_code"]
        yield m.start(account_group), m.end(account_group), "account", _TOKENS["account"]


def _ninos(text: str) -> Iterator[_Span]:
    for m in _NINO.finditer(text):
        yield m.start(), m.end(), "national_id", _TOKENS["national_id"]


def _valid_for(kind: str, raw: str) -> bool:
    digits = _digits(raw)
    if kind == "national_id":
        return 6 <= len(digits) <= 16
    if not raw[0].isdigit():
        return False
    if kind == "account":
        return 6 <= len(digits) <= 17
    if kind == "sort_code":
        return len(digits) == 6
    if kind == "ssn":
        return len(digits) == 9
    return kind == "routing" and len(digits) == 9 and rtn.is_valid(digits)


def _contextual(text: str) -> Iterator[_Span]:
    """Numbers identified by a keyword a few words before them (or just after, except for accounts)."""
    keywords = [(m.start(), m.end(), kinds, after) for rx, kinds, after in _KEYWORDS for m in rx.finditer(text)]
    if not keywords:
        return
    for m in _CANDIDATE.finditer(text):
        start, end, raw = m.start(), m.end(), m.group()
        if _AMOUNT_BEFORE.search(text, 0, start) or _AMOUNT_AFTER.match(text[end : end + 8]):
            continue
        options: list[tuple[float, tuple[str, ...]]] = []
        for k_start, k_end, kinds, after in keywords:
            if k_end <= start and start - k_end <= _BEFORE_WINDOW and not _BLOCKERS.search(text, k_end, start):
                options.append((start - k_end, kinds))
            elif (
                after and k_start >= end and k_start - end <= _AFTER_WINDOW and not _BLOCKERS.search(text, end, k_start)
            ):
                options.append((k_start - end + 0.5, kinds))
        kind = next((k for _, kinds in sorted(options) for k in kinds if _valid_for(k, raw)), None)
        if kind is not None:
            yield start, end, kind, _TOKENS[kind]


class Redactor:
    """Replaces PII in free text with typed tokens such as ``[CARD ****1111]``, ``[IBAN]`` or ``[PHONE]``.

    ``default_region`` is the region national-format phone numbers are parsed in first; ``extra_regions`` are tried
    after it (the brand serves the UK, South Africa and the US).
    """

    def __init__(self, default_region: str = "GB", *, extra_regions: Sequence[str] = ("ZA", "US")) -> None:
        self._regions = tuple(dict.fromkeys((default_region.upper(), *(r.upper() for r in extra_regions))))
        self._detectors: tuple[Callable[[str], Iterable[_Span]], ...] = (
            _emails,
            _ibans,
            _long_numbers,
            _dashed_ssns,
            _uk_pairs,
            _ninos,
            _contextual,
            self._phones,
        )

    def _phones(self, text: str) -> Iterator[_Span]:
        """Valid numbers in any configured region, plus possible numbers written as +CC... or with a trunk 0."""
        for region in self._regions:
            for leniency in (phonenumbers.Leniency.VALID, phonenumbers.Leniency.POSSIBLE):
                for m in phonenumbers.PhoneNumberMatcher(text, region, leniency=leniency):
                    raw = m.raw_string
                    if leniency == phonenumbers.Leniency.POSSIBLE and not (
                        raw.startswith("+") or (raw.startswith("0") and len(_digits(raw)) >= 10)
                    ):
                        continue
                    yield m.start, m.end, "phone", _TOKENS["phone"]

    def redact(self, text: str) -> Redaction:
        """Return ``text`` with every detected piece of PII replaced, and the number of replacements per kind."""
        counts: Counter[str] = Counter()
        for detector in self._detectors:
            pieces: list[str] = []
            pos = 0
            for start, end, kind, token in sorted(detector(text), key=lambda s: (s[0], -s[1])):
                if start < pos:  # overlaps a span already taken
                    continue
                pieces += [text[pos:start], token]
                pos = end
                counts[kind] += 1
            if pieces:
                text = "".join([*pieces, text[pos:]])
        return Redaction(text=text, counts=MappingProxyType(dict(counts)))


_DEFAULT = Redactor()


def redact(text: str) -> str:
    """Redact ``text`` with the shared default :class:`Redactor` (GB phone region) and return the redacted text."""
    return _DEFAULT.redact(text).text


class RedactingFilter(logging.Filter):
    """Logging filter that formats a record's message, redacts it and clears ``args``, so no raw PII reaches a handler.

    Exception and stack text are redacted too. The filter never drops a record.
    """

    def __init__(self, redactor: Redactor | None = None) -> None:
        super().__init__()
        self._redactor = redactor if redactor is not None else _DEFAULT

    def _clean(self, text: str) -> str:
        return self._redactor.redact(text).text

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact ``record`` in place; always keep it."""
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # mismatched format args: keep everything, redacted
            message = f"{record.msg} {record.args!r}"
        record.msg = self._clean(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._clean(record.exc_text)
        if record.stack_info:
            record.stack_info = self._clean(record.stack_info)
        return True


def install_log_redaction(logger: logging.Logger | None = None) -> RedactingFilter:
    """Add a :class:`RedactingFilter` to ``logger`` (default: the root logger) and to each of its current handlers.

    Handler filters also catch records propagated from child loggers; handlers added later need the filter too.
    Calling this again reuses the installed filter.
    """
    target = logger if logger is not None else logging.getLogger()
    installed = next((f for f in target.filters if isinstance(f, RedactingFilter)), None)
    flt = installed if installed is not None else RedactingFilter()
    if installed is None:
        target.addFilter(flt)
    for handler in target.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(flt)
    return flt

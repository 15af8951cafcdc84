"""Detectors for numbers that only a nearby keyword identifies: account, routing, sort code, SSN, ID and card numbers
("my account number is 12345678", "12345678 is my account"), and passport / driving licence numbers.

A keyword counts when it is at most a few words before the number with nothing in between that means the number is
something else ("account balance 250000", "account 12345678, phone 020..."), or, for some keywords, right after it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from stdnum.us import rtn

from ._common import TOKENS, Span, card_token, digits, is_amount

__all__ = ["contextual", "documents"]

# A standalone number (optionally "[ -]" separated, dots only between thousands-like groups, optionally after a 1-4
# letter prefix); not part of a decimal, a date, a time or an amount.
_CANDIDATE = re.compile(
    r"(?<![\w£$€+,/)])(?<!(?<!\bno)(?<!\bnr)\.)"  # "acct no.12345678" is a number, "1.5" is not
    r"(?>(?:[A-Za-z]{1,4}(?=\d))?\d(?:[ -]?\d|\.(?=\d{3}(?!\d)))*)(?![\w£$€%]|[.,/:]\d)",
    re.IGNORECASE,
)
_DATE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}|\d{1,2}[-/.]\d{4}")
# Text between a keyword and a number that means the number is not the identifier.
_BLOCKERS = re.compile(
    r"[£$€%\d?;\n]|(?<!\bno)(?<!\bnr)(?<!\bacct)(?<!\bacc)(?<!\bnum)\.\s"
    r"|\b(?:phone|mobile|cell|tel|call|ring|text|whatsapp|fax|balance|limit|amount|total|sum|fees?|charged?"
    r"|has|had|have|got|paid|pay|sent|send|received?|transferr?(?:ed)?|deposit(?:ed)?|withdr[ae]wn?|worth|over|under"
    r"|about|around|than|since|opened|years?|months?|weeks?|days?|aged?|old|ending|ends?|last|digits?|expir\w*"
    r"|valid|until|issued|renew\w*|ref(?:erence)?|order|invoice|transaction|tracking|ticket|case)\b",
    re.IGNORECASE,
)
# What may stand between a number and a keyword that follows it: "12345678 is my savings account".
_AFTER_GAP = re.compile(
    r"[\s:,()\-–]*(?:(?:(?:that|this|it)(?:'s|\s+is)|is|was|=)\s+)?(?:(?:my|our|the|his|her|their)\s+)?"
    r"(?:(?!(?:to|into|from|in|on|onto|for|of|with|by|at|per|via|out|off|than|and|or|a|an)\s)[a-z]+\s+)?",
    re.IGNORECASE,
)
_ACCOUNT_WORDS = (
    r"\b(?:account|acct|acc|a/c|member(?:ship)?(?:\s*(?:number|no|id|#))?|customer\s*(?:number|no|id)"
    r"|client\s*(?:number|no)|iban|bban|clabe|cbu|cvu|cuenta|conta|bank\s+details|checking|chequing|savings)\b"
)
_ID_WORDS = (
    r"\b(?:id(?:entity|entification)?\s*(?:number|no|num|#)|(?:national|my)\s+id(?:entity)?|id\s+card|identity\s+document"
    r"|dni|cpf|curp|rfc|cuit|cuil|nuip|c[ée]dula|rut|nit|nino|ni\s+(?:number|no)|insurance\s+number"
    r"|tax\s+(?:number|code|id\w*))"
)
# keyword pattern, kinds it can identify (in order of preference), whether it may follow the number.
_KEYWORDS: tuple[tuple[re.Pattern[str], tuple[str, ...], bool], ...] = (
    (re.compile(r"\b(?:routing|aba|rtn|transit)\b", re.I), ("routing",), True),
    (re.compile(r"\bsort(?:[\s-]?codes?)?\b", re.I), ("sort_code", "routing"), True),
    (re.compile(_ACCOUNT_WORDS, re.I), ("account",), True),
    (re.compile(r"\b(?:ssn|social\s+security|social\s+insurance|itin|taxpayer\s+id\w*)\b", re.I), ("ssn",), True),
    (re.compile(_ID_WORDS, re.I), ("national_id",), True),
    (re.compile(r"\b(?:card|visa|master\s?card|amex|maestro)\b", re.I), ("card",), True),
)
_DOC_KEYWORDS = re.compile(
    r"(?i:\bpassport(?:\s*(?:no|number|num|#))?|\bdriv(?:er'?s?|ing)[\s-]*licen[cs]e|\blicen[cs]e\s*(?:no|number|num|#|is\b|:)"
    r"|\b(?:my|your|his|her|their)\s+licen[cs]e\b|\blicen[cs]e(?=\s*(?:no\.?|number|num|#|:)?\s*[A-Za-z]{0,4}\d)"
    r"|\bdriver\s*id|\bpas(?:s)?aporte|\blicencia(?:\s+de\s+(?:conducir|manejo|conductor))?|\blicen[çc]a"
    r"|\bcarteira\s+de\s+motorista|\bpp\s*(?:no|number|num|#))|\bDL\b|\bD/L\b|\bCNH\b"
)
_DOC_TOKEN = re.compile(r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*")
# A keyword followed by its own number ("..., account number 1234") does not also name the number before it.
_INTRODUCES = re.compile(r"\s*(?:number|no\.?|nr|num|#)?\s*[:#]?\s*[A-Za-z]{0,4}\d", re.IGNORECASE)
_BEFORE_WINDOW = 48
_AFTER_WINDOW = 30


def _valid_for(kind: str, raw: str) -> bool:
    number = digits(raw)
    if kind == "national_id":
        return 6 <= len(number) <= 16
    if (not raw[0].isdigit() and kind != "account") or "." in raw:
        return False
    if kind == "account":
        return 6 <= len(number) <= 22
    if kind == "card":
        return 12 <= len(number) <= 19
    if kind == "sort_code":
        return len(number) == 6
    if kind == "ssn":
        return len(number) == 9
    return kind == "routing" and len(number) == 9 and rtn.is_valid(number)


def _keyword_near(text: str, start: int, end: int, k_start: int, k_end: int, after: bool) -> float | None:
    """Distance from the number at ``start:end`` to a keyword at ``k_start:k_end``, or None if it doesn't apply."""
    if k_end <= start and start - k_end <= _BEFORE_WINDOW and not _BLOCKERS.search(text, k_end, start):
        return start - k_end
    if (
        after
        and k_start >= end
        and k_start - end <= _AFTER_WINDOW
        and _AFTER_GAP.fullmatch(text, end, k_start)
        and not _INTRODUCES.match(text, k_end)
    ):
        return k_start - end + _BEFORE_WINDOW + 1  # a keyword before the number wins
    return None


def contextual(text: str) -> Iterator[Span]:
    """Numbers identified by a keyword a few words before them, or just after them."""
    keywords = [(m.start(), m.end(), kinds, after) for rx, kinds, after in _KEYWORDS for m in rx.finditer(text)]
    if not keywords:
        return
    # a 9-digit number with a valid ABA checksum, anywhere in a message that speaks of routing numbers
    routing = any(kinds == ("routing",) for _, _, kinds, _ in keywords)
    for m in _CANDIDATE.finditer(text):
        start, end, raw = m.start(), m.end(), m.group()
        if is_amount(text, start, end):
            continue
        date = bool(_DATE.fullmatch(raw))
        options: list[tuple[float, tuple[str, ...]]] = []
        for k_start, k_end, kinds, after in keywords:
            distance = _keyword_near(text, start, end, k_start, k_end, after)
            if distance is not None:
                options.append((distance, kinds))
        kind = next((k for _, kinds in sorted(options) for k in kinds if _valid_for(k, raw)), None)
        if kind is None and routing and _valid_for("routing", raw):  # "routing number? I have 225648043 on my checks"
            kind = "routing"
        if kind is not None and (not date or kind == "sort_code"):  # "sort code 10-12-26" is not a date
            yield start, end, kind, card_token(digits(raw)) if kind == "card" else TOKENS[kind]


def _document_number(
    text: str, tokens: list[re.Match[str]], i: int, keywords: list[tuple[int, int]]
) -> tuple[int, int] | None:
    """The passport / licence number at ``tokens[i]`` (a token with a digit), with its neighbouring groups."""
    first, last = i, i
    before = tokens[i - 1] if i > 0 else None
    if (
        before is not None
        and re.fullmatch(r"[A-Z]{2,6}", before.group())
        and text[before.end() : tokens[i].start()] == " "
        and not any(k_start < before.end() and before.start() < k_end for k_start, k_end in keywords)
    ):
        first = i - 1
    while (
        last + 1 < len(tokens)
        and tokens[last + 1].start() - tokens[last].end() == 1
        and text[tokens[last].end()] == " "
        and re.fullmatch(r"[A-Z0-9]*\d[A-Z0-9]*", tokens[last + 1].group())
    ):
        last += 1
    start, end = tokens[first].start(), tokens[last].end()
    raw = text[start:end]
    alnum = re.sub(r"[^A-Za-z0-9]", "", raw)
    if not 5 <= len(alnum) <= 20 or len(digits(raw)) < 3 or _DATE.fullmatch(raw) or is_amount(text, start, end):
        return None
    return start, end


def documents(text: str) -> Iterator[Span]:
    """Passport and driving licence numbers (5-20 letters and digits, at least 3 digits) next to their keyword."""
    keywords = [(m.start(), m.end()) for m in _DOC_KEYWORDS.finditer(text)]
    if not keywords:
        return
    tokens = list(_DOC_TOKEN.finditer(text))
    taken = 0
    for i, token in enumerate(tokens):
        if token.start() < taken or not any(ch.isdigit() for ch in token.group()):
            continue
        found = _document_number(text, tokens, i, keywords)
        if found is None:
            continue
        start, end = found
        if any(
            _keyword_near(text, start, end, k_start, k_end, True) is not None
            for k_start, k_end in keywords
            if k_end <= start or k_start >= end
        ):
            yield start, end, "national_id", TOKENS["national_id"]
            taken = end

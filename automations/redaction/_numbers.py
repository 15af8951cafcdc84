"""Detectors that recognise PII by its shape and check digits alone, with no keyword needed.

Emails, IBANs, payment cards (Luhn; 12-digit ones only with a Maestro prefix), South African ID numbers, Brazilian
CPFs, Argentine CUIT/CUILs, US SSNs/ITINs, UK sort code + account pairs, UK National Insurance numbers and Mexican
CURP/RFCs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import phonenumbers
from stdnum import iban, luhn
from stdnum.ar import cuit
from stdnum.br import cpf
from stdnum.mx import rfc
from stdnum.za import idnr

from ._common import TOKENS, Span, card_token, scan

__all__ = [
    "cpf_cuit",
    "emails",
    "ibans",
    "long_numbers",
    "mexican_ids",
    "ninos",
    "ssns",
    "uk_pairs",
]

_EMAIL = re.compile(r"(?<![\w.%+-])[\w.%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}", re.IGNORECASE)
_DIGIT_RUN = re.compile(r"(?<![\d+])\d+(?:[ -]\d+)*")
_MAESTRO_12 = re.compile(r"50|5[6-8]|6|0604")
# Keywords that make a 12-digit number an account or an identifier, not a card: the keyword detectors decide.
_NOT_CARD_BEFORE = re.compile(
    r"\b(?:account|acct|acc|a/c|member|customer|client|routing|iban|id|identity|passport|licen[cs]e|ref(?:erence)?"
    r"|order|invoice|transaction|tracking|ticket|case)\b[^\d]{0,25}$",
    re.IGNORECASE,
)
_ZA_ID_LAYOUTS = ([6, 4, 2, 1], [6, 4, 3], [6, 4, 1, 2], [6, 7], [6, 4, 1, 1, 1])
_SSN_DASHED = re.compile(r"(?<![\d-])\d{3}-\d{2}-\d{4}(?![\d-])")
_SSN_SPACED = re.compile(r"(?<!\d[ -])(?<![\d-])(\d{3}) (\d{2}) (\d{4})(?![\d-]|\s\d)")
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
# The same shape with any letters (test data such as "ZZ 420809 T"), upper case only.
_NINO_LIKE = re.compile(r"(?<![\w-])[A-Z]{2}(?: ?\d{2} ?\d{2} ?\d{2}| \d{6}) ?[A-Z](?![\w-])")
_CPF = re.compile(r"(?<![\d.])\d{3}\.\d{3}\.\d{3}-\d{2}(?![\d-]|\.\d)")
_CUIT = re.compile(r"(?<![\d-])(?:20|2[3-7]|3[034])-\d{8}-\d(?![\d-])")
_CURP = re.compile(r"(?<!\w)[A-Z]{4}\d{6}[HMX][A-Z]{5}[A-Z0-9]\d(?!\w)", re.IGNORECASE)
_RFC = re.compile(r"(?<!\w)[A-ZÑ&]{4}\d{6}[A-Z0-9]{3}(?!\w)")


def emails(text: str) -> Iterator[Span]:
    """E-mail addresses."""
    for m in _EMAIL.finditer(text):
        yield m.start(), m.end(), "email", TOKENS["email"]


def ibans(text: str) -> Iterator[Span]:
    """IBANs with a valid checksum, with or without spaces."""

    def accept(m: re.Match[str]) -> Iterator[Span]:
        ends = [e for e in range(m.end(), m.start() + 14, -1) if e == len(text) or not text[e].isalnum()]
        for end in ends:  # longest valid IBAN that ends at a word boundary
            if iban.is_valid(text[m.start() : end]):
                yield m.start(), end, "iban", TOKENS["iban"]
                return

    return scan(_IBAN, text, accept)


def _is_phone(number: str) -> bool:
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(number, "GB"))
    except phonenumbers.NumberParseException:
        return False


def _long_number_kind(number: str, text: str, start: int) -> str | None:
    if len(number) == 13 and idnr.is_valid(number):
        return "national_id"
    if 13 <= len(number) <= 19 and number[0] != "0" and luhn.is_valid(number):
        return "card"
    if len(number) == 12 and _MAESTRO_12.match(number) and luhn.is_valid(number):
        return None if _NOT_CARD_BEFORE.search(text[max(0, start - 60) : start]) else "card"
    if len(number) == 11 and (cpf.is_valid(number) or cuit.is_valid(number)):
        return None if number[0] == "0" and _is_phone(number) else "national_id"
    return None


def _plausible_groups(sizes: list[int]) -> bool:
    """Digit groups of 3-8, groups of four and a shorter remainder ("4909 5316 9626 6"), or a South African ID number
    written as birth date, sequence, citizenship and check digits ("700622 5870 08 8")."""
    if sizes in _ZA_ID_LAYOUTS:
        return True
    return all(3 <= size <= 8 for size in sizes) or (len(sizes) >= 4 and set(sizes[:-1]) == {4} and sizes[-1] < 4)


def long_numbers(text: str) -> Iterator[Span]:
    """Cards (12-19 digits, Luhn), SA ID numbers and bare CPF/CUITs; tries every window of digit groups in a run."""
    for run in _DIGIT_RUN.finditer(text):
        groups = [(run.start() + g.start(), run.start() + g.end()) for g in re.finditer(r"\d+", run.group())]
        i = 0
        while i < len(groups):
            for j in range(len(groups) - 1, i - 1, -1):
                window = groups[i : j + 1]
                if j > i and not _plausible_groups([end - start for start, end in window]):
                    continue
                number = "".join(text[start:end] for start, end in window)
                if j > i and len(number) == 11:  # grouped 11-digit numbers are phones, not CPFs
                    continue
                kind = _long_number_kind(number, text, window[0][0])
                if kind is not None:
                    token = card_token(number) if kind == "card" else TOKENS[kind]
                    yield window[0][0], window[-1][1], kind, token
                    i = j
                    break
            i += 1


def _ssn_shaped(area: str, group: str, serial: str) -> bool:
    """SSN (area 001-899 except 666) or ITIN (9xx with group 50-65, 70-88, 90-92, 94-99) structure."""
    if group == "00" or serial == "0000" or area in {"000", "666"}:
        return False
    g = int(group)
    return area[0] != "9" or 50 <= g <= 65 or 70 <= g <= 88 or 90 <= g <= 92 or 94 <= g <= 99


def ssns(text: str) -> Iterator[Span]:
    """US SSNs and ITINs written 123-45-6789 (any digits) or 123 45 6789 (SSN/ITIN structure)."""
    for m in _SSN_DASHED.finditer(text):
        yield m.start(), m.end(), "ssn", TOKENS["ssn"]
    for m in _SSN_SPACED.finditer(text):
        if _ssn_shaped(*m.groups()):
            yield m.start(), m.end(), "ssn", TOKENS["ssn"]


def uk_pairs(text: str) -> Iterator[Span]:
    """A UK sort code next to an 8-digit account number, in either order."""
    for m in _UK_PAIR.finditer(text):
        sort_group, account_group = ("sc", "acct") if m.group("sc") else ("sc2", "acct2")
        yield m.start(sort_group), m.end(sort_group), "sort_code", TOKENS["sort_code"]
        yield m.start(account_group), m.end(account_group), "account", TOKENS["account"]


def ninos(text: str) -> Iterator[Span]:
    """UK National Insurance numbers (HMRC letters, any case; any letters when written in capitals)."""
    for pattern in (_NINO, _NINO_LIKE):
        for m in pattern.finditer(text):
            yield m.start(), m.end(), "national_id", TOKENS["national_id"]


def cpf_cuit(text: str) -> Iterator[Span]:
    """Brazilian CPFs written 123.456.789-09 (a distinctive layout: no check) and Argentine CUIT/CUILs (checked)."""
    for m in _CPF.finditer(text):
        yield m.start(), m.end(), "national_id", TOKENS["national_id"]
    for m in _CUIT.finditer(text):
        if cuit.is_valid(m.group()):
            yield m.start(), m.end(), "national_id", TOKENS["national_id"]


def mexican_ids(text: str) -> Iterator[Span]:
    """Mexican CURPs (the 18-character layout is distinctive enough: no check) and personal RFCs (valid date)."""
    for m in _CURP.finditer(text):
        yield m.start(), m.end(), "national_id", TOKENS["national_id"]
    for m in _RFC.finditer(text):
        if rfc.is_valid(m.group()):
            yield m.start(), m.end(), "national_id", TOKENS["national_id"]

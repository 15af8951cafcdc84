"""Dates stated in a message's text, in words ("by March 3, 2027", "3rd of March 2027") or numbers ("2027-03-03",
"03/03/2027"), for clocks that run to a date the sender names (a subpoena's return date)."""

from __future__ import annotations

import re
from datetime import date

__all__ = ["stated_dates"]

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",), ("june", "jun"),
            ("july", "jul"), ("august", "aug"), ("september", "sept", "sep"), ("october", "oct"),
            ("november", "nov"), ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}  # fmt: skip
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_UNITS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth")
_TEENS = ("tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth",
          "eighteenth", "nineteenth")  # fmt: skip
_ORDINALS = {
    **{word: number for number, word in enumerate(_UNITS, start=1)},
    **{word: number for number, word in enumerate(_TEENS, start=10)},
    "twentieth": 20, "thirtieth": 30, "thirty-first": 31, "thirty first": 31,
    **{f"twenty{sep}{word}": 20 + number for number, word in enumerate(_UNITS, start=1) for sep in ("-", " ")},
}  # fmt: skip
_WORD = "|".join(sorted(_ORDINALS, key=len, reverse=True))
_DAY = rf"(?P<day>\d{{1,2}}(?:st|nd|rd|th)?|{_WORD})"
_YEAR = r"(?P<year>\d{4})"
_PATTERNS = (
    re.compile(rf"\b{_MONTH}\s+{_DAY}(?:,?\s+{_YEAR})?\b", re.IGNORECASE),  # March 3, 2027 / March 3
    re.compile(rf"\b{_DAY}(?:\s+of)?\s+{_MONTH},?(?:\s+{_YEAR})?\b", re.IGNORECASE),  # 3 March 2027 / 3rd of March
    re.compile(r"\b(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})\b"),  # 2027-03-03
    re.compile(r"\b(?P<a>\d{1,2})[/.](?P<b>\d{1,2})[/.](?P<year>\d{4})\b"),  # 03/03/2027 (order by jurisdiction)
)


def _valid(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def stated_dates(text: str, *, after: date, month_first: bool = True) -> list[date]:
    """Every date in ``text`` on or after ``after``, in the order they appear. A date with no year is the next such
    day on or after ``after``; ``month_first`` reads ``03/04/2027`` as March 4 (the US order), else as 3 April."""
    found: list[tuple[int, date]] = []
    for pattern in _PATTERNS:
        for match in pattern.finditer(text):
            groups = match.groupdict()
            if "a" in groups:
                first, second = int(groups["a"]), int(groups["b"])
                month, day = (first, second) if month_first else (second, first)
            else:
                raw = groups["month"]
                month = int(raw) if raw.isdigit() else _MONTHS[raw.lower()]
                raw_day = groups["day"].lower()
                day = _ORDINALS[raw_day] if raw_day in _ORDINALS else int(re.sub(r"\D", "", raw_day))
            if groups.get("year"):
                value = _valid(int(groups["year"]), month, day)
            else:
                value = _valid(after.year, month, day)
                if value is not None and value < after:
                    value = _valid(after.year + 1, month, day)
            if value is not None and value >= after and all(start != match.start() for start, _ in found):
                found.append((match.start(), value))
    return [value for _, value in sorted(found)]

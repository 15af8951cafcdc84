"""A literal prefilter for the safety rules' large case-insensitive alternations.

Python's regex engine tries every alternative of ``(?:a)|(?:b)|...`` at every position of a message: a category of
fifty patterns costs a few hundred microseconds per message, and most messages match none. Most patterns can only
start a match with one of a few literal beginnings (``\\b(lost|stolen) ...`` starts with "los" or "sto"), so a message
that contains none of them cannot match. :class:`ScreenedPattern` computes those beginnings from the pattern's parse
tree and looks for them first; only a message that contains one (or a pattern whose beginnings cannot be known) is
searched in full.

The screen never changes a result. It reads only messages that are pure ASCII (``re.IGNORECASE`` then matches
exactly what ``str.lower`` equates, plus the few non-ASCII letters Unicode folds onto ASCII ones, which are mapped
here from the engine itself); anything else is searched in full. Alternatives whose beginnings cannot be known (a
leading ``[^.]`` or ``\\w``) are kept in a residual pattern, searched whenever the screen finds nothing, in their
original order: the leftmost match of the whole alternation is the leftmost match among the alternatives that can
match at all.
"""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Sequence
from typing import Any, Protocol

__all__ = ["ScreenedPattern", "Searcher", "literal_starts"]

_parser: Any = importlib.import_module("re._parser")  # the stdlib's regex parser (no public, typed equivalent)
_c: Any = importlib.import_module("re._constants")

_WIDTH = 3  # characters of each beginning looked for
_MIN = 2  # a beginning shorter than this would be in nearly every message: the pattern is not screened
_MAX_STARTS = 4096
_MAX_CLASS = 16  # a character class with more members ends a beginning there
_ZERO_WIDTH = {_c.AT, _c.ASSERT, _c.ASSERT_NOT}
_REPEATS = {_c.MAX_REPEAT, _c.MIN_REPEAT, getattr(_c, "POSSESSIVE_REPEAT", _c.MAX_REPEAT)}
_GROUPS = {_c.SUBPATTERN, getattr(_c, "ATOMIC_GROUP", _c.SUBPATTERN)}


class Searcher(Protocol):
    """What the safety rules need of a compiled pattern: a compiled ``re.Pattern`` or a :class:`ScreenedPattern`."""

    def search(self, text: str, /) -> re.Match[str] | None:
        """The leftmost match in ``text``, if any."""
        ...


class _Unknown(Exception):
    """The pattern's beginnings cannot be bounded (too many, or a construct not analysed)."""


@functools.cache
def _ascii_forms(char: str) -> frozenset[str]:
    """The lower-case ASCII letters a case-insensitive ``char`` matches (``ſ`` matches ``s``, ``K`` ``k``)."""
    one = re.compile(re.escape(char), re.IGNORECASE)
    return frozenset(chr(code).lower() for code in range(128) if one.fullmatch(chr(code)))


def _chars(op: Any, av: Any) -> frozenset[str] | None:
    """The ASCII characters (lower-cased) one element can consume; ``None`` when it is not a small literal set."""
    if op is _c.LITERAL:
        return _ascii_forms(chr(av))
    if op is not _c.IN:
        return None
    found: set[str] = set()
    for item_op, item in av:
        if item_op is _c.LITERAL:
            found |= _ascii_forms(chr(item))
        elif item_op is _c.RANGE and item[1] - item[0] < _MAX_CLASS:
            for code in range(item[0], item[1] + 1):
                found |= _ascii_forms(chr(code))
        else:  # NEGATE, CATEGORY (\w, \d, \s) or a wide range
            return None
    return frozenset(found) if len(found) <= _MAX_CLASS else None


def _starts(items: Sequence[Any], width: int, budget: list[int], depth: int = 0) -> set[str]:
    """Every string of up to ``width`` characters a match of ``items`` can begin with (shorter where the match may
    end, or where the next character cannot be bounded); ``budget`` bounds the work (nested optional repeats)."""
    if width == 0 or not items:
        return {""}
    budget[0] -= 1
    if depth > 64 or budget[0] < 0:
        raise _Unknown
    (op, av), rest = items[0], list(items[1:])
    if op in _ZERO_WIDTH:
        return _starts(rest, width, budget, depth + 1)
    if op in _GROUPS:
        return _starts([*av[-1], *rest], width, budget, depth + 1)
    if op is _c.BRANCH:
        return set().union(*(_starts([*alt, *rest], width, budget, depth + 1) for alt in av[1]))
    if op in _REPEATS:
        low, high, sub = av
        if high == 0:
            return _starts(rest, width, budget, depth + 1)
        again = [(op, (max(low - 1, 0), high - 1 if high != _c.MAXREPEAT else high, sub))] if high != 1 else []
        starts = _starts([*sub, *again, *rest], width, budget, depth + 1)
        return starts | _starts(rest, width, budget, depth + 1) if low == 0 else starts
    chars = _chars(op, av)
    if chars is None:
        return {""}  # the beginning ends here
    tails = _starts(rest, width - 1, budget, depth + 1)
    if len(chars) * len(tails) > _MAX_STARTS:
        raise _Unknown
    return {char + tail for char in chars for tail in tails}


def literal_starts(pattern: str, flags: int = re.IGNORECASE) -> frozenset[str] | None:
    """The lower-case beginnings (up to 3 characters) one of which every match of ``pattern`` starts with, in an
    ASCII text; ``None`` when they cannot be bounded usefully (a beginning shorter than 2 characters)."""
    try:
        starts = _starts(list(_parser.parse(pattern, flags)), _WIDTH, [20_000])
    except (_Unknown, RecursionError):
        return None
    if any(len(start) < _MIN for start in starts):
        return None
    return frozenset(starts)


@functools.lru_cache(maxsize=16)
def _grams(text: str) -> frozenset[str]:
    """Every 2- and 3-character stretch of a lower-cased ASCII ``text`` (shared by all patterns screening it)."""
    low = text.lower()
    return frozenset(low[i : i + n] for n in (_MIN, _WIDTH) for i in range(len(low) - n + 1))


class ScreenedPattern:
    """The alternation of ``patterns`` (``(?:p1)|(?:p2)|...``), with :meth:`search` answering exactly as the compiled
    alternation does, but trying only the alternatives whose beginnings occur in the message (each compiled on its own:
    the leftmost match of an alternation is the earliest-starting match of its alternatives, the first of them on a
    tie)."""

    def __init__(self, patterns: Sequence[str], flags: int = re.IGNORECASE | re.MULTILINE) -> None:
        """Compile ``patterns`` with ``flags`` (the screen assumes case-insensitive matching, as the rules use)."""
        self.full = re.compile("|".join(f"(?:{p})" for p in patterns), flags)
        self._alternatives = [re.compile(p, flags) for p in patterns]
        starts = [literal_starts(p, flags) if flags & re.IGNORECASE else None for p in patterns]
        self._always = {i for i, found in enumerate(starts) if found is None}
        self._by_start: dict[str, set[int]] = {}
        for i, found in enumerate(starts):
            for start in found or ():
                self._by_start.setdefault(start, set()).add(i)
        self._starts = frozenset(self._by_start)

    def _candidates(self, text: str) -> list[int] | None:
        """The alternatives that may match ``text``, in order (``None``: the message is not ASCII, use the whole)."""
        if not text.isascii():
            return None
        found = set(self._always)
        for start in self._starts & _grams(text):
            found |= self._by_start[start]
        return sorted(found)

    def search(self, text: str) -> re.Match[str] | None:
        """What ``self.full.search(text)`` returns (the same span; groups are numbered within the alternative)."""
        candidates = self._candidates(text)
        if candidates is None:
            return self.full.search(text)
        best: re.Match[str] | None = None
        for i in candidates:
            match = self._alternatives[i].search(text)
            if match is not None and (best is None or match.start() < best.start()):
                best = match
        return best

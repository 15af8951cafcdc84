"""What customer text may spell once undisguised: leetspeak words ("1gn0r3"), letters spaced out ("i g n o r e",
"s h o w   m e" with wider gaps between the words), text written backwards, and base64 blobs.

The safety layer looks for instructions in every one of these readings. Each forward reading has the same length as
the text, so a match in it marks the same stretch of the original; a match in the backwards reading is mapped back.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable

__all__ = ["ENCODED", "decoded", "find", "views"]

_LEET_WORD = re.compile(r"(?<![\w@$])(?=[\w@$]*[a-z])(?=[\w@$]*[\d@$])[\w@$]+", re.IGNORECASE)
_LEET = (str.maketrans("0134578@$zZ", "oieastbassS"), str.maketrans("0134578@$zZ", "oleastbassS"))
# letters each followed by one separator; a wider gap (two or more separators) ends a word
_SPACED = re.compile(r"(?<![\w.])[a-z]([ .*_-])[a-z](?:(?:\1|\1{2,}| {2,})[a-z])+(?!\w)", re.IGNORECASE)
_GAP = re.compile(r"[ .*_-]{2,}")
ENCODED = re.compile(r"(?<![\w+/=])[A-Za-z0-9+/]{12,}={0,2}(?![\w+/=])")


def _joined(run: str) -> str:
    words = [re.sub(r"[ .*_-]", "", word) for word in _GAP.split(run)]
    return " ".join(words).ljust(len(run))


def _leet(text: str, table: dict[int, int]) -> str:
    return _LEET_WORD.sub(lambda m: m.group(0).translate(table), text)


def views(text: str) -> list[str]:
    """``text`` and what it spells with letters spaced out joined up and leetspeak words read as letters, each the
    same length as ``text``."""
    spaced = _SPACED.sub(lambda m: _joined(m.group(0)), text)
    out = [text, spaced] if spaced != text else [text]
    for table in _LEET:
        leet = _leet(spaced, table)
        out += [leet] if leet not in out else []
    return out


def find(text: str, patterns: Iterable[re.Pattern[str]]) -> set[tuple[int, int]]:
    """Every stretch of ``text`` that one of ``patterns`` matches in any reading of it, backwards included (each
    pattern on its own, so a short cue found first never hides a longer match around it)."""
    patterns = list(patterns)
    spans = {m.span() for view in views(text) for p in patterns for m in p.finditer(view)}
    n, backwards = len(text), text[::-1]
    return spans | {(n - m.end(), n - m.start()) for p in patterns for m in p.finditer(backwards)}


def decoded(token: str) -> str | None:
    """The text a base64 token spells (mixed case with a digit or padding, as encoded text has; an ordinary long
    word has not), if it spells mostly words at all."""
    if token.isupper() or token.islower() or not any(c.isdigit() or c in "+/=" for c in token):
        return None
    try:
        raw = base64.b64decode(token + "=" * (-len(token) % 4), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    wordy = sum(c.isalpha() or c.isspace() for c in raw) >= 0.8 * len(raw)
    return raw if raw.isprintable() and wordy else None

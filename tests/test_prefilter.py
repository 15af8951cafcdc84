"""The literal screen in front of the safety rules' alternations never changes an answer."""

from __future__ import annotations

import csv
import random
import re
from pathlib import Path

import pytest

from automations.prefilter import ScreenedPattern, literal_starts
from automations.safety import SafetyGate
from automations.safety_rules import load_safety_rules

FLAGS = re.IGNORECASE | re.MULTILINE
TRAIN = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "banking77" / "train.csv"


@pytest.mark.parametrize(
    ("pattern", "starts"),
    [
        (r"\b(lost|stolen)\b", {"los", "sto"}),
        (r"\b(?!x)(the )?(cfpb|fca)\w* [aá]b", {"the", "cfp", "fca"}),
        (r"(?<!regulated by )\b(complain\w*)", {"com"}),
        (r"\b(no (puedo|podr[ée]))", {"no "}),
        (r"\b(chang|updat)\w*", {"cha", "upd"}),
        (r"\bR \d", {"r "}),  # the digit ends the known beginning
        (r"(ab|c)d", {"abd", "cd"}),
        (r"x{2,}y", {"xxx", "xxy"}),
        (r"\bſt", {"st"}),  # the long s folds onto "s" without case
    ],
)
def test_known_beginnings(pattern: str, starts: set[str] | None) -> None:
    assert literal_starts(pattern, FLAGS) == (frozenset(starts) if starts is not None else None)


@pytest.mark.parametrize(
    "pattern", [r"[^.?!\n]{0,40}\bfoo", r"\b(\w+ ){0,2}bar", r"\d+ days", r"(a?)*b", r"\bR ?\d", "."]
)
def test_unknown_beginnings_are_not_screened(pattern: str) -> None:
    assert literal_starts(pattern, FLAGS) is None


_PIECES = ["ab", "a", "b", "c", "x", "[ab]", "[^a]", r"\w", r"\b", " ", "(?!b)", "(?<!c)", "a?", "b*", "(ab|ba)", "c+"]


def _random_pattern(rng: random.Random) -> str:
    return "".join(rng.choice(_PIECES) for _ in range(rng.randint(1, 5)))


def test_random_alternations_answer_as_the_plain_regex() -> None:
    """Thousands of random alternations and texts over a small alphabet: the same match span or none."""
    rng = random.Random(7)
    for _ in range(400):
        patterns = [_random_pattern(rng) for _ in range(rng.randint(1, 6))]
        screened = ScreenedPattern(patterns, FLAGS)
        for _ in range(25):
            text = "".join(rng.choice("abcxABC .\n") for _ in range(rng.randint(0, 20)))
            mine, plain = screened.search(text), screened.full.search(text)
            assert (mine.span() if mine else None) == (plain.span() if plain else None), (patterns, text)


@pytest.mark.skipif(not TRAIN.exists(), reason="../shared/datasets/banking77 is not beside the repository")
def test_the_safety_rules_answer_as_the_plain_regex_on_banking77() -> None:
    """Every screened alternation of the shipped rules, on 2,000 real customer messages (and the same messages
    upper-cased and with an accent, which takes the unscreened path)."""
    gate = SafetyGate(load_safety_rules())
    with TRAIN.open() as fh:
        texts = [row["text"] for _, row in zip(range(2000), csv.DictReader(fh), strict=False)]
    texts += [t.upper() for t in texts[:200]] + [t + " é" for t in texts[:200]]
    screened = [p for _, p in gate._categories] + [gate._human]
    assert all(isinstance(p, ScreenedPattern) for p in screened)
    for pattern in screened:
        assert isinstance(pattern, ScreenedPattern)
        for text in texts:
            mine, plain = pattern.search(text), pattern.full.search(text)
            where = (pattern.full.pattern[:60], text)
            assert (mine.span() if mine else None) == (plain.span() if plain else None), where

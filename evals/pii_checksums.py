"""Check digits and digit helpers for the PII corpus value generators (see :mod:`evals.pii_values`)."""

from __future__ import annotations

import random
from collections.abc import Iterable

__all__ = [
    "aba_check_digit",
    "cnh_check_digits",
    "cpf_check_digits",
    "group_digits",
    "luhn_check_digit",
    "random_digits",
]


def luhn_check_digit(body: str) -> str:
    """The digit that makes ``body + digit`` pass the Luhn check."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:  # these positions are doubled once the check digit is appended
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def aba_check_digit(body: str) -> str:
    weights = (3, 7, 1, 3, 7, 1, 3, 7)
    total = sum(int(d) * w for d, w in zip(body, weights, strict=True))
    return str((10 - total % 10) % 10)


def cpf_check_digits(body: str) -> str:
    digits = [int(c) for c in body]
    for _ in range(2):
        total = sum(d * w for d, w in zip(digits, range(len(digits) + 1, 1, -1), strict=True))
        digits.append(total * 10 % 11 % 10)
    return "".join(str(d) for d in digits[-2:])


def cnh_check_digits(body: str) -> str:
    """Brazilian driving licence (CNH) check digits."""
    digits = [int(c) for c in body]
    first = sum(d * w for d, w in zip(digits, range(9, 0, -1), strict=True)) % 11
    discount = 0
    if first >= 10:
        first, discount = 0, 2
    second = (sum(d * w for d, w in zip(digits, range(1, 10), strict=True)) % 11 - discount) % 11
    if second >= 10:
        second = 0
    return f"{first}{second}"


# --------------------------------------------------------------------------------------------------------------------
# Value generators
# --------------------------------------------------------------------------------------------------------------------


def random_digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def group_digits(s: str, sizes: Iterable[int], sep: str) -> str:
    out, pos = [], 0
    for size in sizes:
        if pos >= len(s):
            break
        out.append(s[pos : pos + size])
        pos += size
    if pos < len(s):
        out.append(s[pos:])
    return sep.join(out)

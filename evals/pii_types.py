"""Shared names of the blind PII corpus: the locales, the kinds of personal value, and the item types.

Part of :mod:`evals.pii_corpus`, which re-exports everything here; import from there.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["KINDS", "LOCALES", "PiiItem", "PiiValue"]

LOCALES: tuple[str, ...] = ("en_US", "en_GB", "en_ZA", "es_MX", "pt_BR")

KINDS: tuple[str, ...] = (
    "card_number",
    "account_number",
    "routing_number",
    "iban",
    "us_ssn",
    "us_itin",
    "uk_nino",
    "za_id",
    "br_cpf",
    "mx_curp",
    "email",
    "phone",
    "driving_licence",
    "passport",
)


@dataclass(frozen=True)
class PiiValue:
    """One personal value, exactly as it is written in the message."""

    kind: str
    value: str


@dataclass(frozen=True)
class PiiItem:
    """One customer message and the personal values in it, in order of appearance."""

    id: str
    text: str
    values: tuple[PiiValue, ...]

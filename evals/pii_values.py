"""Value generators of the PII corpus: one :class:`ValueGenerator` per corpus (see :mod:`evals.pii_corpus`).

Cards, bank accounts, routing numbers, IBANs and the non-personal fillers are made here; national identifiers and
documents come from :class:`evals.pii_identity.IdentityMixin`, e-mail addresses and phone numbers from
:class:`evals.pii_contact.ContactMixin`. Every random choice is drawn from one seeded ``rng`` and per-locale seeded
Fakers, so a seed always gives the same corpus.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable
from datetime import date, timedelta

from faker import Faker

from evals.pii_checksums import aba_check_digit, group_digits, luhn_check_digit, random_digits
from evals.pii_contact import ContactMixin
from evals.pii_identity import IdentityMixin
from evals.pii_types import LOCALES

__all__ = ["ValueGenerator"]

# Locales Faker is asked for IBANs beyond the five (customers receive money from Europe too).
_IBAN_LOCALES: tuple[str, ...] = ("en_GB", "pt_BR", "de_DE", "fr_FR", "es_ES", "nl_NL", "it_IT", "en_IE")

_MERCHANTS = ("Amazon", "Uber", "Tesco", "Walmart", "Shoprite", "OXXO", "Mercado Livre", "Netflix", "Shell", "Spotify")
_CURRENCY = {"en_US": "$", "en_GB": "£", "en_ZA": "R", "es_MX": "MX$", "pt_BR": "R$"}


class ValueGenerator(IdentityMixin, ContactMixin):
    """Generates values for one corpus; all randomness from ``rng`` and per-locale seeded Fakers."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.fakers: dict[str, Faker] = {}
        for loc in (*LOCALES, *_IBAN_LOCALES):
            if loc in self.fakers:
                continue
            try:
                fk = Faker(loc)
            except AttributeError:  # no en_ZA in this Faker: South African names from zu_ZA
                fk = Faker("zu_ZA")
            fk.seed_instance(seed * 1_000_003 + zlib.crc32(loc.encode()))
            self.fakers[loc] = fk
        self.used: set[str] = set()
        self.makers: dict[str, Callable[[str], str]] = {
            "card_number": self.card_number,
            "account_number": self.account_number,
            "routing_number": self.routing_number,
            "iban": self.iban,
            "us_ssn": self.us_ssn,
            "us_itin": self.us_itin,
            "uk_nino": self.uk_nino,
            "za_id": self.za_id,
            "br_cpf": self.br_cpf,
            "mx_curp": self.mx_curp,
            "email": self.email,
            "phone": self.phone,
            "driving_licence": self.driving_licence,
            "passport": self.passport,
        }

    def make(self, kind: str, locale: str) -> str:
        """A value of ``kind`` not used before in this corpus."""
        for _ in range(200):
            value = self.makers[kind](locale)
            if value not in self.used:
                self.used.add(value)
                return value
        raise RuntimeError(f"could not make a fresh {kind} value")

    # fillers -----------------------------------------------------------------------------------------------------

    def filler(self, name: str, locale: str) -> str:
        rng = self.rng
        if name == "amount":
            return f"{_CURRENCY[locale]}{rng.randint(3, 2500)}.{rng.randint(0, 99):02d}"
        if name == "date":
            d = date(2024, 1, 1) + timedelta(days=rng.randint(0, 600))
            if locale == "en_US":
                return f"{d.month}/{d.day}"
            return rng.choice((f"{d.day:02d}/{d.month:02d}", d.strftime("%d %b"), d.isoformat()))
        if name == "merchant":
            return rng.choice(_MERCHANTS)
        if name == "sort_code":
            return group_digits(random_digits(rng, 6), (2, 2, 2), rng.choice(("-", "-", " ")))
        if name == "last4":
            return random_digits(rng, 4)
        raise KeyError(name)

    # cards ---------------------------------------------------------------------------------------------------------

    _CARD_SCHEMES: tuple[tuple[tuple[str, ...], tuple[int, ...]], ...] = (
        (("4",), (13, 16, 16, 16, 19)),  # Visa
        (("51", "52", "53", "54", "55", "2221", "2300", "2720"), (16,)),  # Mastercard
        (("34", "37"), (15,)),  # Amex
        (("6011", "65", "644"), (16, 19)),  # Discover
        (("36", "300", "305"), (14,)),  # Diners
        (("3528", "3530", "3589"), (16,)),  # JCB
        (("5018", "5020", "5038", "6304", "6759"), (12, 13, 15, 16, 18, 19)),  # Maestro
        (("62",), (16, 17, 18, 19)),  # UnionPay
        (("636368", "438935", "504175", "606282"), (16,)),  # Elo, Hipercard (Brazil)
    )

    def card_number(self, locale: str) -> str:
        rng = self.rng
        if rng.random() < 0.4:
            digits = self.fakers[locale].credit_card_number()
        else:
            prefixes, lengths = rng.choice(self._CARD_SCHEMES)
            prefix, length = rng.choice(prefixes), rng.choice(lengths)
            body = prefix + random_digits(rng, length - len(prefix) - 1)
            digits = body + luhn_check_digit(body)
        style = rng.choice(("none", "space", "space", "dash", "grouped"))
        if style == "none":
            return digits
        if style == "grouped" and len(digits) in (14, 15):
            return group_digits(digits, (4, 6, 5), " ")
        return group_digits(digits, (4,) * 5, " " if style in ("space", "grouped") else "-")

    # bank accounts ---------------------------------------------------------------------------------------------------

    def account_number(self, locale: str) -> str:
        rng = self.rng
        if locale == "en_GB":
            return random_digits(rng, 8)
        if locale == "pt_BR":
            body = random_digits(rng, rng.randint(5, 9))
            return f"{body}-{rng.randint(0, 9)}" if rng.random() < 0.7 else body + str(rng.randint(0, 9))
        if locale == "en_ZA":
            return rng.choice(("62", "10", "40", "15", "4")) + random_digits(rng, rng.randint(7, 9))
        if locale == "es_MX":
            n = random_digits(rng, rng.choice((10, 11)))
            return n if rng.random() < 0.8 else group_digits(n, (4, 3, 4), "-")
        n = str(rng.randint(1, 9)) + random_digits(rng, rng.randint(5, 16))
        if len(n) >= 10 and rng.random() < 0.2:
            return group_digits(n, (4,) * 5, " ")
        return n

    def routing_number(self, locale: str) -> str:
        rng = self.rng
        body = f"{rng.choice([*range(1, 13), *range(21, 33)]):02d}" + random_digits(rng, 6)
        return body + aba_check_digit(body)

    def iban(self, locale: str) -> str:
        rng = self.rng
        source = locale if locale in ("en_GB", "pt_BR") and rng.random() < 0.6 else rng.choice(_IBAN_LOCALES)
        compact: str = self.fakers[source].iban()
        return compact if rng.random() < 0.5 else group_digits(compact, (4,) * 9, " ")

"""E-mail address and phone number generators of the PII corpus, mixed into :class:`ValueGenerator`.

Phone numbers come from Faker where its formats are plausible and from patterns written here for the rest (ZA, AR and
CO numbers, international and extension forms); a locale's numbers are sometimes another country's.
"""

from __future__ import annotations

import random

from faker import Faker

__all__ = ["ContactMixin"]

# Where a locale's phone numbers come from (es_MX messages also stand for Argentine and Colombian customers).
_PHONE_COUNTRY: dict[str, tuple[str, ...]] = {
    "en_US": ("US",),
    "en_GB": ("GB",),
    "en_ZA": ("ZA",),
    "es_MX": ("MX", "MX", "AR", "CO"),
    "pt_BR": ("BR",),
}


class ContactMixin:
    """``email`` and ``phone``, with a helper per country for the phone formats."""

    rng: random.Random
    fakers: dict[str, Faker]

    # contact details -------------------------------------------------------------------------------------------------

    def email(self, locale: str) -> str:
        fk = self.fakers[locale]
        pick = self.rng.random()
        address: str = fk.free_email() if pick < 0.55 else fk.company_email() if pick < 0.7 else fk.email()
        if locale == "en_ZA" and self.rng.random() < 0.4:
            address = address.split("@")[0] + self.rng.choice(("@gmail.com", "@webmail.co.za", "@mweb.co.za"))
        return address

    def phone(self, locale: str) -> str:
        rng = self.rng
        if rng.random() < 0.3:
            country = rng.choice(("US", "GB", "ZA", "MX", "BR", "AR", "CO"))
        else:
            country = rng.choice(_PHONE_COUNTRY[locale])
        number = getattr(self, f"_phone_{country.lower()}")()
        if "x" not in number and "ramal" not in number and rng.random() < 0.12:
            number += rng.choice((" x", " ext. ", " ext ", " extension ", " Ext.")) + str(rng.randint(2, 4999))
        return number

    def _fill(self, pattern: str) -> str:
        """``#`` a digit, ``N`` a digit 2-9."""
        rng = self.rng
        return "".join(
            rng.choice("0123456789") if c == "#" else rng.choice("23456789") if c == "N" else c for c in pattern
        )

    def _phone_us(self) -> str:
        if self.rng.random() < 0.7:
            return str(self.fakers["en_US"].phone_number())
        return self._fill(self.rng.choice(("(N##) N##-####", "N##-N##-####", "+1 N## N## ####", "1-N##-N##-####")))

    def _phone_gb(self) -> str:
        fk, r = self.fakers["en_GB"], self.rng.random()
        if r < 0.4:
            return str(fk.phone_number())
        if r < 0.7:
            return str(fk.cellphone_number())
        return self._fill(self.rng.choice(("07### ######", "+44 7### ######", "020 7946 0###", "+44 20 7946 0###")))

    def _phone_za(self) -> str:
        return self._fill(
            self.rng.choice(
                (
                    "08# ### ####",
                    "07# ### ####",
                    "06# ### ####",
                    "+27 8# ### ####",
                    "+27 7# ### ####",
                    "+278########",
                    "08#-###-####",
                    "08########",
                    "(011) ### ####",
                    "021 ### ####",
                    "+27 (0)21 ### ####",
                    "031-###-####",
                )
            )
        )

    def _phone_mx(self) -> str:
        if self.rng.random() < 0.35:
            number = str(self.fakers["es_MX"].phone_number())
            if not number.startswith("+"):  # Faker's "+##(#)" formats carry a made-up country code
                return number
        return self._fill(
            self.rng.choice(
                (
                    "55 #### ####",
                    "+52 55 #### ####",
                    "+52 1 81 #### ####",
                    "(33) 36## ####",
                    "044 55 #### ####",
                    "55-####-####",
                    "N##.###.####",
                    "+52 (N##) ###-####",
                    "+5255########",
                )
            )
        )

    def _phone_br(self) -> str:
        r = self.rng.random()
        if r < 0.5:
            return str(self.fakers["pt_BR"].phone_number())
        if r < 0.6:
            return self._fill("(1#) 3###-#### ramal ##")
        return self._fill(
            self.rng.choice(
                ("(11) 9####-####", "+55 (21) 9####-####", "119########", "+55 11 9#### ####", "(0xx21) 9####-####")
            )
        )

    def _phone_ar(self) -> str:
        return self._fill(
            self.rng.choice(
                (
                    "+54 9 11 ####-####",
                    "011 4###-####",
                    "(011) 15-####-####",
                    "+54 11 4### ####",
                    "351 ###-####",
                    "+54911########",
                    "11 ####-####",
                    "+54 (341) ###-####",
                    "0221 ###-####",
                )
            )
        )

    def _phone_co(self) -> str:
        return self._fill(
            self.rng.choice(
                (
                    "+57 30# ### ####",
                    "31# ### ####",
                    "(601) ### ####",
                    "+57 (604) ### ####",
                    "300#######",
                    "601-###-####",
                    "+57 601 ### ####",
                    "32#-###-####",
                    "(+57) 315 ### ####",
                )
            )
        )

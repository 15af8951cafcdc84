"""National identifier and identity document generators of the PII corpus, mixed into :class:`ValueGenerator`.

SSNs and ITINs come from Faker; NI numbers follow the HMRC prefix rules, South African ID numbers pass Luhn with a
plausible date of birth, CPFs carry their two check digits, CURPs come from Faker with a real state code. Driving
licence and passport numbers follow each country's format (DVLA numbers are built from a Faker name and birth date).
"""

from __future__ import annotations

import random
import re
from datetime import date, timedelta

from faker import Faker

from evals.pii_checksums import cnh_check_digits, cpf_check_digits, group_digits, luhn_check_digit, random_digits

__all__ = ["IdentityMixin"]

# Mexican state codes (CURP positions 12-13); NE is "born abroad".
_CURP_STATES = frozenset(
    re.findall(
        r"[A-Z]{2}",
        "AS BC BS CC CL CM CS CH DF DG GT GR HG JC MC MN MS NT NL OC PL QT QR SP SL SR TC TS TL VZ YN ZS NE",
    )
)


class IdentityMixin:
    """``us_ssn``, ``us_itin``, ``uk_nino``, ``za_id``, ``br_cpf``, ``mx_curp``, ``driving_licence``, ``passport``."""

    rng: random.Random
    fakers: dict[str, Faker]

    # national identifiers ---------------------------------------------------------------------------------------------

    def us_ssn(self, locale: str) -> str:
        ssn: str = self.fakers["en_US"].ssn()
        return self.rng.choice((ssn, ssn, ssn, ssn.replace("-", " "), ssn.replace("-", "")))

    def us_itin(self, locale: str) -> str:
        itin: str = self.fakers["en_US"].itin()
        return itin if self.rng.random() < 0.8 else itin.replace("-", self.rng.choice(("", " ")))

    def uk_nino(self, locale: str) -> str:
        rng = self.rng
        first_ok = "ABCEGHJKLMNOPRSTWXYZ"
        second_ok = "ABCEGHJKLMNPRSTWXYZ"
        while True:
            prefix = rng.choice(first_ok) + rng.choice(second_ok)
            if prefix not in ("BG", "GB", "KN", "NK", "NT", "TN", "ZZ", "QQ"):
                break
        digits, suffix = random_digits(rng, 6), rng.choice("ABCD")
        if rng.random() < 0.35:
            return f"{prefix} {digits[:2]} {digits[2:4]} {digits[4:]} {suffix}"
        return f"{prefix}{digits}{suffix}"

    def za_id(self, locale: str) -> str:
        rng = self.rng
        born = date(1940, 1, 1) + timedelta(days=rng.randint(0, 66 * 365))
        body = born.strftime("%y%m%d") + f"{rng.randint(0, 9999):04d}" + rng.choice("0000001") + "8"
        number = body + luhn_check_digit(body)
        if rng.random() < 0.2:
            return f"{number[:6]} {number[6:10]} {number[10:]}"
        return number

    def br_cpf(self, locale: str) -> str:
        rng = self.rng
        body = random_digits(rng, 9)
        while len(set(body)) == 1:
            body = random_digits(rng, 9)
        n = body + cpf_check_digits(body)
        if rng.random() < 0.55:
            return f"{n[:3]}.{n[3:6]}.{n[6:9]}-{n[9:]}"
        return n

    def mx_curp(self, locale: str) -> str:
        for _ in range(100):
            curp: str = self.fakers["es_MX"].curp()
            if curp[11:13] in _CURP_STATES:
                return curp
        raise RuntimeError("no plausible CURP from Faker")

    # documents ---------------------------------------------------------------------------------------------------

    def driving_licence(self, locale: str) -> str:
        rng = self.rng
        if locale == "en_GB":
            return self._dvla()
        if locale == "pt_BR":
            body = random_digits(rng, 9)
            return body + cnh_check_digits(body)
        if locale == "en_ZA":
            head = random_digits(rng, 8)  # drawn before the letters, as the order of draws fixes the corpus
            return head + "".join(rng.choice("ABCDEFGHJKLMNPRSTVWXYZ") for _ in range(2)) + random_digits(rng, 2)
        if locale == "es_MX":
            return rng.choice("ABCDNT") + random_digits(rng, 8) if rng.random() < 0.6 else "BC" + random_digits(rng, 9)
        letter = rng.choice("ABCDEFGHJKLMNPRSTWY")
        return rng.choice(
            (
                letter + random_digits(rng, 7),  # California
                group_digits(random_digits(rng, 9), (3, 3, 3), " "),  # New York
                (
                    f"{letter}{random_digits(rng, 3)}-{random_digits(rng, 3)}-"
                    f"{random_digits(rng, 2)}-{random_digits(rng, 3)}-{random_digits(rng, 1)}"
                ),
                random_digits(rng, 8),  # Texas
                f"{letter}{random_digits(rng, 3)}-{random_digits(rng, 4)}-{random_digits(rng, 4)}",  # Illinois
                letter + random_digits(rng, 12),  # Michigan
            )
        )

    def _dvla(self) -> str:
        """A UK (DVLA) driving licence number from a Faker name and a date of birth."""
        rng, fk = self.rng, self.fakers["en_GB"]
        surname = re.sub(r"[^A-Z]", "", str(fk.last_name()).upper())
        if surname.startswith("MAC"):
            surname = "MC" + surname[3:]
        born = date(1945, 1, 1) + timedelta(days=rng.randint(0, 60 * 365))
        month = born.month + (50 if rng.random() < 0.5 else 0)
        initials = (re.sub(r"[^A-Z]", "", str(fk.first_name()).upper())[:1] + rng.choice("ABCDEJMRS9"))[:2]
        number = (
            f"{surname[:5]:9<5}{str(born.year)[2]}{month:02d}{born.day:02d}{str(born.year)[3]}"
            f"{initials}9{rng.choice('ABCDEFGHJKLMNPRSTVWXYZ')}{rng.choice('ABCDEFGHJKLMNPRSTVWXYZ')}"
        )
        return number if rng.random() < 0.75 else f"{number[:5]} {number[5:11]} {number[11:]}"

    def passport(self, locale: str) -> str:
        rng = self.rng
        if rng.random() < 0.2:
            return str(self.fakers[locale].passport_number())
        if locale == "en_US":
            if rng.random() < 0.5:
                return random_digits(rng, 9)
            return rng.choice("ACEFGHJKLMNPRSTUVWXYZ") + random_digits(rng, 8)
        if locale == "en_GB":
            return str(rng.randint(1, 9)) + random_digits(rng, 8)
        if locale == "en_ZA":
            return rng.choice("AMTD") + random_digits(rng, 8)
        if locale == "es_MX":
            return rng.choice("GNEF") + random_digits(rng, 8)
        return "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(2)) + random_digits(rng, 6)

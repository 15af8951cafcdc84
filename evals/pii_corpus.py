"""A blind evaluation corpus of personal data embedded in customer support messages.

Synthetic chat messages to a bank's support bot, each carrying one to three personal values (card and account numbers,
national identifiers, e-mail addresses, phone numbers, licence and passport numbers). Values come from Faker across
the locales en_US, en_GB, en_ZA, es_MX and pt_BR, plus generators written here for what Faker lacks (checksummed
identifiers, AR / CO / ZA / MX phone formats); the message templates are written here. The corpus is written without
reference to any redaction code: it measures a redactor, it is not tuned to one.

Every value appears verbatim in its message, and ``PiiItem.values`` lists them in order of appearance. Checksummed
kinds are valid: card numbers pass Luhn, routing numbers the ABA check, CPFs their two check digits, South African ID
numbers Luhn with a plausible date of birth, ITINs the IRS ranges, National Insurance numbers the HMRC prefix rules.

Faker has no ``en_ZA`` locale in some versions; South African names and addresses then come from ``zu_ZA`` and the
South African phone numbers, ID numbers, licence and passport numbers from the generators here.

``find_raw`` counts, per kind, how many values still appear in some text (a redactor's output, a log)::

    items = generate()
    redacted = "\\n".join(redact(item.text) for item in items)
    find_raw(items, redacted)   # {"card_number": (0, 52), "email": (3, 61), ...}

Run as a module to (re)write ``evals/data/pii_corpus.jsonl`` (n=600, seed=7)::

    .venv/bin/python -m evals.pii_corpus
"""

from __future__ import annotations

import argparse
import json
import random
import re
import zlib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from faker import Faker

__all__ = [
    "DEFAULT_PATH",
    "KINDS",
    "LOCALES",
    "PiiItem",
    "PiiValue",
    "find_raw",
    "generate",
    "read_jsonl",
    "write_jsonl",
]

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

DEFAULT_PATH = Path(__file__).resolve().parent / "data" / "pii_corpus.jsonl"


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


# --------------------------------------------------------------------------------------------------------------------
# Templates: (text, language). Slots are {kind} or {kind#2} for a second value of the same kind; the filler slots
# {amount}, {date}, {merchant}, {sort_code} and {last4} are not personal data (sort codes name a branch, last4 is the
# masked form banks print) and are not recorded. Language "en" fits any locale; "es" and "pt" pin es_MX and pt_BR.
# --------------------------------------------------------------------------------------------------------------------

_TEMPLATES: tuple[tuple[str, str], ...] = (
    # card numbers
    ("Hi, my card {card_number} was declined at {merchant} yesterday, can you check why?", "en"),
    ("{card_number} <- this card got charged {amount} twice", "en"),
    ("pls block card no:{card_number} asap!!! i lost my wallet", "en"),
    ("Is the card ending in {last4} the same one as {card_number}? I have two and I'm confused", "en"),
    ("I want to dispute a charge of {amount} on {date}. Card number {card_number}, email {email}.", "en"),
    ("card: {card_number} / exp 08/27 -- is it activated yet?", "en"),
    ("why was {card_number} frozen??", "en"),
    ("Hello, I tried to add my card {card_number} to Apple Pay and it just says 'invalid card'.", "en"),
    ("I think I was scammed... they have my card {card_number} and my email {email}", "en"),
    ("Can someone call me? {phone}. It's about the card {card_number}", "en"),
    ("Mi tarjeta {card_number} fue rechazada en {merchant}, ¿qué pasó?", "es"),
    ("Meu cartão {card_number} foi bloqueado sem motivo", "pt"),
    # account numbers
    ("Hi, my account number is {account_number} and I can't log in.", "en"),
    ("acct no. {account_number} - the statement for {date} is missing", "en"),
    ("please transfer {amount} from a/c {account_number} to my savings", "en"),
    ("My member number is {account_number}, I need to update my address", "en"),
    ("sort code {sort_code} account {account_number}, can you confirm the payee name?", "en"),
    ("a/c {account_number}. Direct debit to {merchant} failed, why?", "en"),
    ("I paid {amount} into acct no.{account_number} by mistake, can I get it back", "en"),
    ("my email {email} and phone {phone} are both wrong on account number {account_number}", "en"),
    ("account number {account_number}, iban {iban} -- please confirm they're the same account", "en"),
    ("Hola, my account number is {account_number}; mi correo es {email}", "es"),
    ("Minha conta é {account_number}, agência 0001. Não caiu o Pix de {amount}", "pt"),
    ("Member number {account_number}", "en"),
    # routing numbers
    ("Account {account_number} routing {routing_number} - is that right for direct deposit?", "en"),
    ("my account number is {account_number} and the routing number is {routing_number}, payroll needs it", "en"),
    ("what's your routing number? I have {routing_number} on my checks but the app shows something else", "en"),
    ("Is {routing_number} the correct routing number for wires or only for ACH?", "en"),
    ("ABA/routing: {routing_number}, account: {account_number}. Setting up direct deposit with my employer.", "en"),
    ("{routing_number} is the routing # my employer has on file, is that yours??", "en"),
    # IBANs
    ("I need to receive money from abroad, is my IBAN {iban}?", "en"),
    ("Sent {amount} to IBAN {iban} on {date} and it still hasn't arrived", "en"),
    ("iban:{iban} bic? the sender is asking for both", "en"),
    ("Please refund to {iban} instead, thanks", "en"),
    ("{iban} -- that's the IBAN on my statement but the transfer bounced", "en"),
    ("Can I pay {amount} to my landlord's IBAN ({iban}) from the app?", "en"),
    # US SSN
    ("I'm opening an account and it keeps rejecting my SSN {us_ssn}", "en"),
    ("my social is {us_ssn}, can you verify my identity so I can reset my PIN", "en"),
    ("SSN: {us_ssn} DOB {date} - still locked out!", "en"),
    ("Someone opened a credit card with my ssn ({us_ssn})!!! What do I do", "en"),
    ("{us_ssn} is my social security number. phone {phone}, please call back", "en"),
    ("Verify me: card {card_number}, SSN {us_ssn}, phone {phone}.", "en"),
    # US ITIN
    ("I don't have an SSN, I use my ITIN {us_itin}. Can I still open a checking account?", "en"),
    ("the tax form has the wrong ITIN, it should be {us_itin} not the old one", "en"),
    ("ITIN# {us_itin}. Also my passport number is {passport}.", "en"),
    ("my taxpayer id is {us_itin} (ITIN) -- please update it on the 1099", "en"),
    # UK National Insurance
    ("My national insurance number is {uk_nino}, do you need it for the ISA?", "en"),
    ("NI no. {uk_nino} - the form won't accept it", "en"),
    ("NINO:{uk_nino}; sort code {sort_code}; acct no. {account_number}", "en"),
    ("Hi there, {uk_nino} is my NI number and my driving licence number is {driving_licence}", "en"),
    ("the app asks for my NI number... it's {uk_nino}", "en"),
    # South African ID
    ("My ID number is {za_id}, why is my FICA verification still pending?", "en"),
    ("SA ID {za_id} -- I can't register for the app", "en"),
    ("id no {za_id}, cell {phone}, please help", "en"),
    ("I updated my ID to {za_id} but the statement still shows the old one.", "en"),
    # Brazilian CPF
    ("Meu CPF é {br_cpf}, não consigo acessar a conta", "pt"),
    ("CPF {br_cpf} - the Pix key isn't working", "en"),
    ("Hi, my CPF is {br_cpf} and my email is {email}, I need a statement", "en"),
    ("{br_cpf} é o meu CPF, pode verificar o cadastro?", "pt"),
    ("cpf:{br_cpf}; telefone {phone}", "pt"),
    # Mexican CURP
    ("Mi CURP es {mx_curp}, ¿por qué rechazaron mi solicitud?", "es"),
    ("CURP {mx_curp} - trying to open an account from Mexico", "en"),
    ("they asked for my CURP, here it is: {mx_curp}", "en"),
    ("{mx_curp} es mi CURP y mi número es {phone}", "es"),
    # e-mail
    ("Please send the statement to {email}", "en"),
    ("{email} is my new email, please update your records", "en"),
    ("I never got the reset link at {email}??", "en"),
    ("Change my email from {email} to {email#2} please", "en"),
    ("contact me: {email} or {phone}", "en"),
    ("email me at <{email}>, thanks", "en"),
    ("ok here it is {email}", "en"),
    ("Por favor manden el estado de cuenta a {email}", "es"),
    # phone
    ("my number changed to {phone}, please update it", "en"),
    ("Call me back on {phone} after 5pm", "en"),
    ("I'm not getting the OTP texts on {phone}", "en"),
    ("{phone} - that's my mobile, the one on file is old", "en"),
    ("You can reach me at {phone} or my work line {phone#2}", "en"),
    ("Number: {phone}. Email: {email}. Card: {card_number}.", "en"),
    ("Hola, mi número es {phone}, necesito ayuda con una transferencia", "es"),
    ("Meu celular é {phone}, não recebo o código", "pt"),
    ("tel.{phone}", "en"),
    # driving licence
    ("My driving licence number is {driving_licence}, is that enough for ID?", "en"),
    ("driver's license {driving_licence} was scanned but verification failed", "en"),
    ("DL number: {driving_licence}. DOB {date}.", "en"),
    ("Here's my driver's license # {driving_licence} and SSN {us_ssn}", "en"),
    ("I uploaded my driving licence ({driving_licence}) three times already!!", "en"),
    ("DL#{driving_licence} -- pls verify me, can't wait any longer", "en"),
    # passport
    ("My passport number is {passport}, it expires next month, do I need to update it?", "en"),
    ("passport number: {passport} (new one), the old one was stolen", "en"),
    ("I'm abroad and lost my card. Passport number {passport}, call me on {phone}", "en"),
    ("Is passport number {passport} on file? I renewed it", "en"),
    ("{passport} is my passport number, I need to verify my identity", "en"),
    ("Update my docs pls: passport number {passport}; driving licence {driving_licence}", "en"),
    ("Mi número de pasaporte es {passport}, ¿lo tienen registrado?", "es"),
)

# Kinds that fix the locale of a message (one country issues them).
_LOCALE_OF_KIND: dict[str, str] = {
    "routing_number": "en_US",
    "us_ssn": "en_US",
    "us_itin": "en_US",
    "uk_nino": "en_GB",
    "za_id": "en_ZA",
    "br_cpf": "pt_BR",
    "mx_curp": "es_MX",
}
_LOCALE_OF_LANG: dict[str, str] = {"es": "es_MX", "pt": "pt_BR"}

_SLOT = re.compile(r"\{([a-z_0-9]+)(?:#\d)?\}")
_FILLERS = frozenset({"amount", "date", "merchant", "sort_code", "last4"})

# Locales Faker is asked for IBANs beyond the five (customers receive money from Europe too).
_IBAN_LOCALES: tuple[str, ...] = ("en_GB", "pt_BR", "de_DE", "fr_FR", "es_ES", "nl_NL", "it_IT", "en_IE")

# Mexican state codes (CURP positions 12-13); NE is "born abroad".
_CURP_STATES = frozenset(
    re.findall(
        r"[A-Z]{2}",
        "AS BC BS CC CL CM CS CH DF DG GT GR HG JC MC MN MS NT NL OC PL QT QR SP SL SR TC TS TL VZ YN ZS NE",
    )
)

_MERCHANTS = ("Amazon", "Uber", "Tesco", "Walmart", "Shoprite", "OXXO", "Mercado Livre", "Netflix", "Shell", "Spotify")
_CURRENCY = {"en_US": "$", "en_GB": "£", "en_ZA": "R", "es_MX": "MX$", "pt_BR": "R$"}
# Where a locale's phone numbers come from (es_MX messages also stand for Argentine and Colombian customers).
_PHONE_COUNTRY: dict[str, tuple[str, ...]] = {
    "en_US": ("US",),
    "en_GB": ("GB",),
    "en_ZA": ("ZA",),
    "es_MX": ("MX", "MX", "AR", "CO"),
    "pt_BR": ("BR",),
}


# --------------------------------------------------------------------------------------------------------------------
# Check digits
# --------------------------------------------------------------------------------------------------------------------


def _luhn_check_digit(body: str) -> str:
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


def _aba_check_digit(body: str) -> str:
    weights = (3, 7, 1, 3, 7, 1, 3, 7)
    total = sum(int(d) * w for d, w in zip(body, weights, strict=True))
    return str((10 - total % 10) % 10)


def _cpf_check_digits(body: str) -> str:
    digits = [int(c) for c in body]
    for _ in range(2):
        total = sum(d * w for d, w in zip(digits, range(len(digits) + 1, 1, -1), strict=True))
        digits.append(total * 10 % 11 % 10)
    return "".join(str(d) for d in digits[-2:])


def _cnh_check_digits(body: str) -> str:
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


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def _group(s: str, sizes: Iterable[int], sep: str) -> str:
    out, pos = [], 0
    for size in sizes:
        if pos >= len(s):
            break
        out.append(s[pos : pos + size])
        pos += size
    if pos < len(s):
        out.append(s[pos:])
    return sep.join(out)


class _Gen:
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
            return _group(_digits(rng, 6), (2, 2, 2), rng.choice(("-", "-", " ")))
        if name == "last4":
            return _digits(rng, 4)
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
            body = prefix + _digits(rng, length - len(prefix) - 1)
            digits = body + _luhn_check_digit(body)
        style = rng.choice(("none", "space", "space", "dash", "grouped"))
        if style == "none":
            return digits
        if style == "grouped" and len(digits) in (14, 15):
            return _group(digits, (4, 6, 5), " ")
        return _group(digits, (4,) * 5, " " if style in ("space", "grouped") else "-")

    # bank accounts ---------------------------------------------------------------------------------------------------

    def account_number(self, locale: str) -> str:
        rng = self.rng
        if locale == "en_GB":
            return _digits(rng, 8)
        if locale == "pt_BR":
            body = _digits(rng, rng.randint(5, 9))
            return f"{body}-{rng.randint(0, 9)}" if rng.random() < 0.7 else body + str(rng.randint(0, 9))
        if locale == "en_ZA":
            return rng.choice(("62", "10", "40", "15", "4")) + _digits(rng, rng.randint(7, 9))
        if locale == "es_MX":
            n = _digits(rng, rng.choice((10, 11)))
            return n if rng.random() < 0.8 else _group(n, (4, 3, 4), "-")
        n = str(rng.randint(1, 9)) + _digits(rng, rng.randint(5, 16))
        if len(n) >= 10 and rng.random() < 0.2:
            return _group(n, (4,) * 5, " ")
        return n

    def routing_number(self, locale: str) -> str:
        rng = self.rng
        body = f"{rng.choice([*range(1, 13), *range(21, 33)]):02d}" + _digits(rng, 6)
        return body + _aba_check_digit(body)

    def iban(self, locale: str) -> str:
        rng = self.rng
        source = locale if locale in ("en_GB", "pt_BR") and rng.random() < 0.6 else rng.choice(_IBAN_LOCALES)
        compact: str = self.fakers[source].iban()
        return compact if rng.random() < 0.5 else _group(compact, (4,) * 9, " ")

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
        digits, suffix = _digits(rng, 6), rng.choice("ABCD")
        if rng.random() < 0.35:
            return f"{prefix} {digits[:2]} {digits[2:4]} {digits[4:]} {suffix}"
        return f"{prefix}{digits}{suffix}"

    def za_id(self, locale: str) -> str:
        rng = self.rng
        born = date(1940, 1, 1) + timedelta(days=rng.randint(0, 66 * 365))
        body = born.strftime("%y%m%d") + f"{rng.randint(0, 9999):04d}" + rng.choice("0000001") + "8"
        number = body + _luhn_check_digit(body)
        if rng.random() < 0.2:
            return f"{number[:6]} {number[6:10]} {number[10:]}"
        return number

    def br_cpf(self, locale: str) -> str:
        rng = self.rng
        body = _digits(rng, 9)
        while len(set(body)) == 1:
            body = _digits(rng, 9)
        n = body + _cpf_check_digits(body)
        if rng.random() < 0.55:
            return f"{n[:3]}.{n[3:6]}.{n[6:9]}-{n[9:]}"
        return n

    def mx_curp(self, locale: str) -> str:
        for _ in range(100):
            curp: str = self.fakers["es_MX"].curp()
            if curp[11:13] in _CURP_STATES:
                return curp
        raise RuntimeError("no plausible CURP from Faker")

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

    # documents ---------------------------------------------------------------------------------------------------

    def driving_licence(self, locale: str) -> str:
        rng = self.rng
        if locale == "en_GB":
            return self._dvla()
        if locale == "pt_BR":
            body = _digits(rng, 9)
            return body + _cnh_check_digits(body)
        if locale == "en_ZA":
            return _digits(rng, 8) + "".join(rng.choice("ABCDEFGHJKLMNPRSTVWXYZ") for _ in range(2)) + _digits(rng, 2)
        if locale == "es_MX":
            return rng.choice("ABCDNT") + _digits(rng, 8) if rng.random() < 0.6 else "BC" + _digits(rng, 9)
        letter = rng.choice("ABCDEFGHJKLMNPRSTWY")
        return rng.choice(
            (
                letter + _digits(rng, 7),  # California
                _group(_digits(rng, 9), (3, 3, 3), " "),  # New York
                f"{letter}{_digits(rng, 3)}-{_digits(rng, 3)}-{_digits(rng, 2)}-{_digits(rng, 3)}-{_digits(rng, 1)}",
                _digits(rng, 8),  # Texas
                f"{letter}{_digits(rng, 3)}-{_digits(rng, 4)}-{_digits(rng, 4)}",  # Illinois
                letter + _digits(rng, 12),  # Michigan
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
            return _digits(rng, 9) if rng.random() < 0.5 else rng.choice("ACEFGHJKLMNPRSTUVWXYZ") + _digits(rng, 8)
        if locale == "en_GB":
            return str(rng.randint(1, 9)) + _digits(rng, 8)
        if locale == "en_ZA":
            return rng.choice("AMTD") + _digits(rng, 8)
        if locale == "es_MX":
            return rng.choice("GNEF") + _digits(rng, 8)
        return "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(2)) + _digits(rng, 6)


# --------------------------------------------------------------------------------------------------------------------
# Corpus
# --------------------------------------------------------------------------------------------------------------------


def _template_kinds(text: str) -> list[str]:
    return [m.group(1) for m in _SLOT.finditer(text) if m.group(1) not in _FILLERS]


def _locale_for(text: str, lang: str, rng: random.Random) -> str:
    for kind in _template_kinds(text):
        if kind in _LOCALE_OF_KIND:
            return _LOCALE_OF_KIND[kind]
    if lang in _LOCALE_OF_LANG:
        return _LOCALE_OF_LANG[lang]
    return rng.choice(LOCALES)


def _fill_template(gen: _Gen, text: str, locale: str) -> tuple[str, list[PiiValue]]:
    values: list[PiiValue] = []
    filled: dict[str, str] = {}

    def fill(m: re.Match[str]) -> str:
        slot, name = m.group(0), m.group(1)
        if name in _FILLERS:
            return gen.filler(name, locale)
        if slot not in filled:
            filled[slot] = gen.make(name, locale)
        values.append(PiiValue(name, filled[slot]))
        return filled[slot]

    return _SLOT.sub(fill, text), values


def generate(n: int = 600, seed: int = 7) -> list[PiiItem]:
    """``n`` messages, deterministic for ``seed``; kinds are balanced (each message is picked to carry the rarest)."""
    gen = _Gen(seed)
    rng = gen.rng
    by_kind: dict[str, list[tuple[str, str]]] = {k: [] for k in KINDS}
    for text, lang in _TEMPLATES:
        for kind in set(_template_kinds(text)):
            by_kind[kind].append((text, lang))
    counts: Counter[str] = Counter(dict.fromkeys(KINDS, 0))
    items: list[PiiItem] = []
    for i in range(n):
        fewest = min(counts.values())
        target = rng.choice(sorted(k for k in KINDS if counts[k] == fewest))
        text, lang = rng.choice(by_kind[target])
        locale = _locale_for(text, lang, rng)
        message, values = _fill_template(gen, text, locale)
        for v in values:
            if v.value not in message:
                raise AssertionError(f"{v} not verbatim in {message!r}")
            counts[v.kind] += 1
        items.append(PiiItem(id=f"pii-{i:04d}-{locale}", text=message, values=tuple(values)))
    return items


# --------------------------------------------------------------------------------------------------------------------
# Scoring
# --------------------------------------------------------------------------------------------------------------------

# Characters people and systems put inside numbers. Newlines are not among them: join messages with "\n".
_SEPARATORS = re.compile(r"[ \t\-.()/+\u00a0\u2009\u202f\u2010\u2011\u2012\u2013\u2014]")
_EXTENSION = re.compile(r"\s*(?:x|ext\.?|extension|ramal)\s*\d+$", re.IGNORECASE)


def find_raw(items: Iterable[PiiItem], haystack: str) -> dict[str, tuple[int, int]]:
    """Per kind: (values found raw in ``haystack``, total values).

    A value is found raw when it appears verbatim, or, for a value with at least 7 digits, when it appears with
    separators (spaces, dashes, dots, parentheses, slashes, plus signs) removed from both it and the haystack
    (``4111-1111-1111-1111`` is found in ``card 4111111111111111``), or when its digits alone appear in the
    separator-free haystack (a phone number's extension dropped, or an IBAN's digits run on). Letters and newlines in
    the haystack still separate numbers, so join several texts with ``"\\n"``.
    """
    flat = _SEPARATORS.sub("", haystack).upper()
    totals: Counter[str] = Counter()
    found: Counter[str] = Counter()
    for item in items:
        for v in item.values:
            totals[v.kind] += 1
            hit = v.value in haystack
            if not hit:
                digits = re.sub(r"\D", "", _EXTENSION.sub("", v.value))
                if len(re.sub(r"\D", "", v.value)) >= 7:
                    hit = _SEPARATORS.sub("", v.value).upper() in flat or (len(digits) >= 7 and digits in flat)
            if hit:
                found[v.kind] += 1
    return {kind: (found[kind], totals[kind]) for kind in totals}


# --------------------------------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------------------------------


def write_jsonl(items: Iterable[PiiItem], path: str | Path) -> None:
    """One item per line: ``{"id", "text", "values": [{"kind", "value"}, ...]}``."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    with p.open("w", encoding="utf-8") as fh:
        for item in items:
            row = {
                "id": item.id,
                "text": item.text,
                "values": [{"kind": v.kind, "value": v.value} for v in item.values],
            }
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def read_jsonl(path: str | Path) -> list[PiiItem]:
    """The items ``write_jsonl`` wrote."""
    items: list[PiiItem] = []
    with Path(path).open(encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            row = json.loads(line)
            values = tuple(PiiValue(kind=v["kind"], value=v["value"]) for v in row["values"])
            items.append(PiiItem(id=row["id"], text=row["text"], values=values))
    return items


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=600)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=DEFAULT_PATH)
    args = parser.parse_args(argv)
    items = generate(args.n, args.seed)
    write_jsonl(items, args.out)
    if read_jsonl(args.out) != items:
        raise SystemExit(f"{args.out} does not read back as written")
    counts = Counter(v.kind for item in items for v in item.values)
    print(f"wrote {len(items)} messages, {sum(counts.values())} values to {args.out}")
    for kind in KINDS:
        print(f"  {kind:<16} {counts[kind]:>4}")
    unredacted = find_raw(items, "\n".join(item.text for item in items))
    missing = {k: v for k, v in unredacted.items() if v[0] != v[1]}
    if missing:
        raise SystemExit(f"find_raw misses values in their own text: {missing}")


if __name__ == "__main__":
    main()

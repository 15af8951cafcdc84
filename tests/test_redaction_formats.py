"""Tests for the national formats and keyword-context detectors of the PII redactor (automations.redaction)."""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

import pytest
from stdnum import luhn

from automations.redaction import Redactor, redact

BANKING77 = Path(os.environ.get("BANKING77_DIR") or Path(__file__).resolve().parents[2] / "shared/datasets/banking77")


def _check(text: str, expected: str, kinds: dict[str, int]) -> None:
    result = Redactor().redact(text)
    assert result.text == expected
    assert dict(result.counts) == kinds
    assert redact(result.text) == result.text  # idempotent


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my account number is 123456789", "my account number is [ACCOUNT]"),
        ("My account number is 1234 5678 9012, thanks", "My account number is [ACCOUNT], thanks"),
        ("please send it to a/c 123-456-789", "please send it to a/c [ACCOUNT]"),
        ("the account: NWBK60161331926819", "the account: [ACCOUNT]"),
        ("my member number is 77665544", "my member number is [ACCOUNT]"),
        ("membership no. 1234567", "membership no. [ACCOUNT]"),
        ("CLABE 012180001234567897", "CLABE [ACCOUNT]"),
        ("CBU 0170099220000067797370", "CBU [ACCOUNT]"),
        ("123456789 is my account", "[ACCOUNT] is my account"),
        ("00123456 is my savings account", "[ACCOUNT] is my savings account"),
        ("12345678 - that's my account number", "[ACCOUNT] - that's my account number"),
        ("12345678 (current account)", "[ACCOUNT] (current account)"),
    ],
)
def test_accounts_by_context(text: str, expected: str) -> None:
    _check(text, expected, {"account": 1})


@pytest.mark.parametrize(
    ("text", "expected", "region"),
    [
        ("call me on 455 6186 please", "call me on [PHONE] please", "GB"),
        ("my mobile is 455-6186", "my mobile is [PHONE]", "GB"),
        ("whatsapp: (72) 754-186", "whatsapp: [PHONE]", "GB"),
        ("455 6186 is my number", "[PHONE] is my number", "GB"),
        ("reach me at 151.081.7740x2347", "reach me at [PHONE]", "GB"),
        ("(202) 555-0143 ext. 12", "[PHONE]", "GB"),
        ("202-555-0143 ext 12 after six", "[PHONE] after six", "GB"),
        ("office 020 7946 0958 ext 345", "office [PHONE]", "GB"),
        ("US: (212) 555-0199", "US: [PHONE]", "GB"),
        ("GB: 0113 496 0123", "GB: [PHONE]", "US"),
        ("ZA: 082 123 4567", "ZA: [PHONE]", "GB"),
        ("MX: 55 1234 5678", "MX: [PHONE]", "GB"),
        ("BR: (11) 91234-5678", "BR: [PHONE]", "GB"),
        ("AR: 011 4567-8901", "AR: [PHONE]", "GB"),
        ("AR: (0351) 423-4567", "AR: [PHONE]", "GB"),
        ("CO: 310 123 4567", "CO: [PHONE]", "GB"),
        ("Mi celular es 55 1234 5678", "Mi celular es [PHONE]", "GB"),
        ("tel 2345-6789", "tel [PHONE]", "GB"),
    ],
)
def test_national_phone_formats(text: str, expected: str, region: str) -> None:
    result = Redactor(default_region=region).redact(text)
    assert result.text == expected
    assert dict(result.counts) == {"phone": 1}


def _luhn_valid(body: str) -> str:
    return body + luhn.calc_check_digit(body)


def test_twelve_digit_maestro_is_a_card() -> None:
    number = _luhn_valid("67596498264")
    _check(f"maestro {number[:4]} {number[4:8]} {number[8:]}", f"maestro [CARD ****{number[-4:]}]", {"card": 1})
    _check(f"paid with {number} yesterday", f"paid with [CARD ****{number[-4:]}] yesterday", {"card": 1})


def test_twelve_digit_luhn_without_card_prefix_or_word_is_left() -> None:
    number = _luhn_valid("12345678901")
    _check(f"the code {number} arrived", f"the code {number} arrived", {})


def test_grouped_card_with_short_last_group() -> None:
    _check("4909 5316 9626 6 was charged", "[CARD ****6266] was charged", {"card": 1})


@pytest.mark.parametrize("number", ["4111 1111 1111 1112", "1234567812345678", "5018-1234-5679"])
def test_non_luhn_number_next_to_a_card_word_is_still_a_card(number: str) -> None:
    assert not luhn.is_valid(re.sub(r"\D", "", number))
    last4 = re.sub(r"\D", "", number)[-4:]
    _check(f"my card {number} was declined", f"my card [CARD ****{last4}] was declined", {"card": 1})


@pytest.mark.parametrize(
    ("text", "expected", "kind"),
    [
        ("SSN 536-22-1234", "SSN [SSN]", "ssn"),
        ("my SSN is 078 05 1120", "my SSN is [SSN]", "ssn"),
        ("536 22 1234 please", "[SSN] please", "ssn"),
        ("social security 078051120", "social security [SSN]", "ssn"),
        ("ITIN 912-70-1234", "ITIN [SSN]", "ssn"),
        ("my ITIN is 912701234", "my ITIN is [SSN]", "ssn"),
        ("NI no: AB 12 34 56 C", "NI no: [NATIONAL_ID]", "national_id"),
        ("NINO ZZ 420809 T", "NINO [NATIONAL_ID]", "national_id"),
        ("code ZZ114426T", "code [NATIONAL_ID]", "national_id"),
        ("ID 8001015009087", "ID [NATIONAL_ID]", "national_id"),
        ("my ID number is 800101 5009 087", "my ID number is [NATIONAL_ID]", "national_id"),
        ("meu CPF: 123.456.789-09", "meu CPF: [NATIONAL_ID]", "national_id"),
        ("386.561.201-66 is mine", "[NATIONAL_ID] is mine", "national_id"),
        ("CPF 12345678909", "CPF [NATIONAL_ID]", "national_id"),
        ("it is 38656120166", "it is [NATIONAL_ID]", "national_id"),
        ("CURP GOMC800101HDFNRR09", "CURP [NATIONAL_ID]", "national_id"),
        ("ZAID260707MTLTZM01 is my curp", "[NATIONAL_ID] is my curp", "national_id"),
        ("RFC GOMC800101AB1", "RFC [NATIONAL_ID]", "national_id"),
        ("CUIT 20-12345678-6", "CUIT [NATIONAL_ID]", "national_id"),
        ("DNI 12.345.678", "DNI [NATIONAL_ID]", "national_id"),
        ("cedula 1020304050", "cedula [NATIONAL_ID]", "national_id"),
    ],
)
def test_national_ids(text: str, expected: str, kind: str) -> None:
    _check(text, expected, {kind: 1})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("driver's licence: MORGA753116SM9IJ", "driver's licence: [NATIONAL_ID]"),
        ("driving licence MORGA 753116 SM9IJ ok", "driving licence [NATIONAL_ID] ok"),
        ("DL# D1234567", "DL# [NATIONAL_ID]"),
        ("driving license no. S530-4127-9870", "driving license no. [NATIONAL_ID]"),
        ("my licence is SMITH901010JJ9AA", "my licence is [NATIONAL_ID]"),
        ("Licence: B1234567, expires soon", "Licence: [NATIONAL_ID], expires soon"),
        ("passport no. 123456789", "passport no. [NATIONAL_ID]"),
        ("passport number: GB1234567", "passport number: [NATIONAL_ID]"),
        ("X12345678 is my passport number", "[NATIONAL_ID] is my passport number"),
    ],
)
def test_licence_and_passport_numbers(text: str, expected: str) -> None:
    _check(text, expected, {"national_id": 1})


@pytest.mark.parametrize(
    "text",
    [
        "I paid 1 500 000 pesos for the car",
        "transfer of 12.500,00 BRL is stuck",
        "paguei R$ 1.500,00 ontem",
        "My card number ends with 4821 and it was declined",
        "the 4 digits of my card are 1234",
        "card ending in 5555, expiry 09/27",
        "Transaction ID 73829104 failed",
        "my reference number is 48213390",
        "tracking number 6535285430 for the new card",
        "Case number 00123456 please update",
        "Order no. 123456789 never came",
        "The payment of 1,234,567 went out on 12.03.2026",
        "my PIN 1234 is blocked",
        "I called 3 times at 10:45 and 11:30",
        "I have 150000 in my savings account",
        "I transferred 250000 to my account yesterday",
        "my passport expired on 2026-01-05 can I still verify",
        "passport expired 2023, I have a driving licence from 2019",
        "my phone number hasn't changed since 2020",
        "I'd like to call about transaction 55123498",
        "The app says error code 40213",
        "account 3 has been frozen since 12 March",
        "I need statement for 01/2025 to 06/2025",
        "transfer 2500000 COP to my mom",
    ],
)
def test_banking_text_is_left_alone(text: str) -> None:
    _check(text, text, {})


def test_sort_code_that_looks_like_a_date() -> None:
    _check("sort code 10-12-26", "sort code [SORT_CODE]", {"sort_code": 1})


@pytest.mark.skipif(not (BANKING77 / "train.csv").exists(), reason="Banking77 not available")
def test_banking77_train_false_redactions_at_most_one_percent() -> None:
    with (BANKING77 / "train.csv").open(encoding="utf-8") as fh:
        texts = [row["text"] for row in csv.DictReader(fh)]
    redactor = Redactor()
    changed = [(t, redactor.redact(t).text) for t in texts if redactor.redact(t).text != t]
    assert len(changed) <= 0.01 * len(texts), changed[:20]


def test_a_valid_routing_number_anywhere_in_a_message_about_routing() -> None:
    text = "what's your routing number? I have 021000021 on my checks but the app shows something else"
    assert "021000021" not in redact(text) and "[ROUTING]" in redact(text)
    assert redact("order 021000021 arrived") == "order 021000021 arrived"  # no routing word: left alone


def test_a_number_glued_to_no_dot() -> None:
    assert redact("I paid $15.17 into acct no.9396 1005 1117 286 by mistake") == (
        "I paid $15.17 into acct no.[ACCOUNT] by mistake"
    )
    assert redact("fees went up 1.5 percent") == "fees went up 1.5 percent"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my ID 850101 5800 08 8 is on the form", "my ID [NATIONAL_ID] is on the form"),
        ("Texas license 12345678 renewed last week", "Texas license [NATIONAL_ID] renewed last week"),
        ("Licencia de conducir GOMA850101, vence en 2030", "Licencia de conducir [NATIONAL_ID], vence en 2030"),
        ("Mi pasaporte es G12345678", "Mi pasaporte es [NATIONAL_ID]"),
        ("Meu passaporte é YB123456", "Meu passaporte é [NATIONAL_ID]"),
        ("CNH 01234567890 vencida", "CNH [NATIONAL_ID] vencida"),
        ("PP no. M1234567 for the form", "PP no. [NATIONAL_ID] for the form"),
        ("savings is 4411-229384, checking 55012 29911", "savings is [ACCOUNT], checking [ACCOUNT]"),
        ("It went to the wrong account! Mine is 31415926535", "It went to the wrong account! Mine is [ACCOUNT]"),
        ("the license fee is 300, a license for 3 cars", "the license fee is 300, a license for 3 cars"),
    ],
)  # fmt: skip
def test_formats_added_after_the_blind_pii_holdout(text: str, expected: str) -> None:
    assert redact(text) == expected

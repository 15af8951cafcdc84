"""Tests for the PII redactor (automations.redaction)."""

from __future__ import annotations

import csv
import io
import json
import logging
import random
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from stdnum import luhn

from automations.redaction import RedactingFilter, Redaction, Redactor, install_log_redaction, redact
from automations.resources import data_path

DATA = Path(__file__).parent / "data"
EXAMPLES = data_path("examples")
CORPUS: list[dict[str, Any]] = [json.loads(line) for line in (DATA / "pii_corpus.jsonl").read_text().splitlines()]


def _compact(text: str) -> str:
    return re.sub(r"[\s\-.()/]", "", text)


def test_corpus_is_big_and_well_formed() -> None:
    assert len(CORPUS) >= 60
    for entry in CORPUS:
        assert entry["secrets"]
        assert len(entry["kinds"]) == len(entry["secrets"])
        for secret in entry["secrets"]:
            assert secret in entry["text"]


@pytest.mark.parametrize("entry", CORPUS, ids=[e["text"][:40] for e in CORPUS])
def test_corpus_secrets_are_removed(entry: dict[str, Any]) -> None:
    result = Redactor().redact(entry["text"])
    compact_out = _compact(result.text)
    for secret in entry["secrets"]:
        assert secret not in result.text
        assert _compact(secret).lower() not in compact_out.lower()
        digits = re.sub(r"\D", "", secret)
        for i in range(len(digits) - 11):  # no 12-digit stretch of the secret survives
            assert digits[i : i + 12] not in compact_out
    assert Counter(result.counts) == Counter(entry["kinds"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("card 4111 1111 1111 1111 please", "card [CARD ****1111] please"),
        ("4242-4242-4242-4242.", "[CARD ****4242]."),
        ("amex 378282246310005", "amex [CARD ****0005]"),
        ("GB82 WEST 1234 5698 7654 32", "[IBAN]"),
        ("iban de89370400440532013000, thanks", "iban [IBAN], thanks"),
        ("routing 021000021", "routing [ROUTING]"),
        ("sort code 20-00-00 account 12345678", "sort code [SORT_CODE] account [ACCOUNT]"),
        ("acct no 00012345678", "acct no [ACCOUNT]"),
        ("account:12345678", "account:[ACCOUNT]"),
        ("SSN:123456789", "SSN:[SSN]"),
        ("SSN 219-09-9999", "SSN [SSN]"),
        ("ID number 8001015009087", "ID number [NATIONAL_ID]"),
        ("NI QQ123456C", "NI [NATIONAL_ID]"),
        ("mail me: a.b@example.com!", "mail me: [EMAIL]!"),
        ("call +44 20 7946 0958.", "call [PHONE]."),
    ],
)
def test_tokens(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_card_keeps_last_four() -> None:
    for entry in CORPUS:
        result = redact(entry["text"])
        for secret, kind in zip(entry["secrets"], entry["kinds"], strict=True):
            if kind == "card":
                last4 = re.sub(r"\D", "", secret)[-4:]
                assert f"[CARD ****{last4}]" in result


@pytest.mark.parametrize(
    "number", ["4111111111111112", "4111 1111 1111 1113", "5555-5555-5555-4445", "1234567812345678"]
)
def test_invalid_luhn_is_not_a_card(number: str) -> None:
    assert not luhn.is_valid(re.sub(r"\D", "", number))
    result = Redactor().redact(f"the number {number} is wrong")
    assert "card" not in result.counts
    assert "[CARD" not in result.text


def test_invalid_luhn_after_account_keyword_is_an_account() -> None:
    result = Redactor().redact("account 1234567812345678")
    assert result.text == "account [ACCOUNT]"
    assert dict(result.counts) == {"account": 1}


@pytest.mark.parametrize(
    "text",
    [
        "I paid £1,000.50 for rent",
        "Please send 2500 EUR to my sister",
        "Can I top up $15k at once?",
        "The transfer on 2026-01-05 still hasn't arrived",
        "I was charged on 05/01/2026 at 10:30",
        "Your fee is 2.5% which is too high",
        "Transfer reference REF 4821",
        "My account balance is 250000 and I want to move it",
        "I've had the account since 2019",
        "I withdrew 100 but got 80",
        "ATM at 23:59 took £300 and gave nothing",
        "Exchange rate was 1.1634 instead of 1.17",
        "top up 5,000 failed, is the cap 10,000?",
        "I sent 40k on 12 March 2026",
        "card ending 1234 was declined",
        "my account was charged 1234567 pence??",
        "Order #20260105 was refunded 3 days ago",
        "I'm 17 years old, can I open an account?",
        "It's been 8 weeks since I complained",
        "Between 9am and 5pm, Monday to Friday",
        "pending top-up of 200 euros since 14:05",
        "Sent R5000 to my account at FNB",
        "I have 12 cards and 3 accounts, 2026 was a busy year",
    ],
)
def test_clean_text_unchanged(text: str) -> None:
    result = Redactor().redact(text)
    assert result.text == text
    assert dict(result.counts) == {}


def test_example_csvs_mostly_unchanged() -> None:
    files = sorted(EXAMPLES.glob("*.csv"))
    if not files:
        pytest.skip("no example CSVs yet")
    texts = [row["text"] for path in files for row in csv.DictReader(path.open(encoding="utf-8"))]
    changed = [(t, redact(t)) for t in texts if redact(t) != t]
    for before, after in changed:
        print(f"CHANGED: {before!r} -> {after!r}")
    assert len(changed) <= 0.01 * len(texts), changed[:20]


def test_counts() -> None:
    result = Redactor().redact(
        "a@example.com, b@example.org, card 4111111111111111, 5555 5555 5555 4444, call +27 82 123 4567"
    )
    assert isinstance(result, Redaction)
    assert dict(result.counts) == {"email": 2, "card": 2, "phone": 1}
    assert result.text == "[EMAIL], [EMAIL], card [CARD ****1111], [CARD ****4444], call [PHONE]"


def test_redaction_is_idempotent() -> None:
    for entry in CORPUS:
        once = redact(entry["text"])
        assert redact(once) == once


def test_default_region_for_phones() -> None:
    assert Redactor(default_region="US").redact("call (202) 555-0143").text == "call [PHONE]"
    assert Redactor(default_region="ZA", extra_regions=()).redact("bel 082 123 4567").text == "bel [PHONE]"


def _luhn_number(rng: random.Random, length: int) -> str:
    body = str(rng.choice("23456")) + "".join(rng.choice("0123456789") for _ in range(length - 2))
    return body + luhn.calc_check_digit(body)


def test_generated_luhn_numbers_with_random_separators() -> None:
    rng = random.Random(1234)
    redactor = Redactor()
    for _ in range(300):
        digits = _luhn_number(rng, rng.choice([13, 14, 15, 16, 16, 16, 19]))
        sep = rng.choice(["", " ", "-"])
        step = rng.choice([4, 4, 5, 6])
        formatted = sep.join(digits[i : i + step] for i in range(0, len(digits), step)) if sep else digits
        if sep and len(formatted.split(sep)[-1]) < 3:  # too short a trailing group: merge it
            parts = formatted.split(sep)
            formatted = sep.join([*parts[:-2], parts[-2] + parts[-1]])
        prefix = rng.choice(["", "card ", "My card is ", "(", "number: "])
        suffix = rng.choice(["", ".", " please", ")", ", thanks"])
        result = redactor.redact(prefix + formatted + suffix)
        assert digits[-4:] in result.text
        assert formatted not in result.text
        assert digits[:12] not in _compact(result.text)
        if result.counts.get("card") != 1:  # a valid 13-digit one may be an SA ID number instead
            assert len(digits) == 13
            assert dict(result.counts) == {"national_id": 1}
        else:
            assert f"[CARD ****{digits[-4:]}]" in result.text


def test_logging_filter_redacts_formatted_message() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("tests.redaction.filter")
    logger.propagate = False
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        flt = install_log_redaction(logger)
        assert isinstance(flt, RedactingFilter)
        assert flt in logger.filters
        assert flt in handler.filters
        assert install_log_redaction(logger) is flt
        logger.info("customer %s paid with %s from %s", "jane@example.com", "4111 1111 1111 1111", "+44 20 7946 0958")
        logger.warning("iban=%(iban)s", {"iban": "GB82WEST12345698765432"})
        try:
            raise ValueError("bad card 5555555555554444")
        except ValueError:
            logger.exception("failed for ssn 219-09-9999")
    finally:
        logger.removeHandler(handler)
    out = stream.getvalue()
    for secret in [
        "jane@example.com",
        "4111 1111 1111 1111",
        "7946 0958",
        "GB82WEST",
        "5555555555554444",
        "219-09-9999",
    ]:
        assert secret not in out
    assert "INFO customer [EMAIL] paid with [CARD ****1111] from [PHONE]" in out
    assert "WARNING iban=[IBAN]" in out
    assert "ValueError: bad card [CARD ****4444]" in out


def test_install_on_root_logger_covers_child_loggers(caplog: pytest.LogCaptureFixture) -> None:
    root = logging.getLogger()
    before_filters = list(root.filters)
    caplog.set_level(logging.INFO)
    flt = install_log_redaction()
    try:
        assert flt in root.filters
        assert caplog.handler in root.handlers
        assert flt in caplog.handler.filters
        logging.getLogger("tests.redaction.child").info("call me on %s", "07700 900123")
        assert "07700 900123" not in caplog.text
        assert "call me on [PHONE]" in caplog.text
        assert all(r.args is None for r in caplog.records)
    finally:
        root.filters[:] = before_filters
        for handler in root.handlers:
            if flt in handler.filters:
                handler.removeFilter(flt)


def test_filter_keeps_records_with_bad_args() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "card %s %s", ("4111111111111111",), None)
    assert RedactingFilter().filter(record)
    assert "4111111111111111" not in record.getMessage()

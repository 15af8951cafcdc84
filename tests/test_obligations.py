"""Regulatory clocks (issue 17): the obligations file, each rule's due date with fixed dates, and triage output."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest
from rich.progress import Progress

from automations.configfile import ConfigError
from automations.obligations import add_business_days, add_months, load_obligations
from automations.statedates import stated_dates
from bot.batch import run_triage
from bot.settings import Settings

OBLIGATIONS = load_obligations()


def due(category: str, text: str, received_at: str, jurisdiction: str = "US") -> dict[str, str]:
    """Rule id → due (ISO 8601) for one contact."""
    found = OBLIGATIONS.deadlines(category, (), text, datetime.fromisoformat(received_at), jurisdiction)
    return {d.id: d.due.isoformat() for d in found}


def test_reg_e_skips_weekends_and_a_monday_federal_holiday() -> None:
    # received Friday 2026-01-16; Monday 2026-01-19 is Martin Luther King Jr. Day: the 10th business day is Feb 2
    text = "There is a card payment I did not make"
    assert due("card_payment_not_recognised", text, "2026-01-16T10:00:00-05:00") == {
        "reg_e_error_resolution": "2026-02-02T23:59:59-05:00"
    }
    # received on a Saturday: counting starts on Monday
    assert add_business_days(date(2026, 1, 3), 10, "US") == date(2026, 1, 16)
    basis = OBLIGATIONS.deadlines("card_payment_not_recognised", (), text, datetime(2026, 1, 16), "US")[0].basis
    assert "45 calendar days" in basis and "provisionally credit" in basis


def test_reg_e_is_found_from_the_text_and_only_in_the_us() -> None:
    text = "The ATM did not give me the cash but my account was debited"
    assert "reg_e_error_resolution" in due("atm_support", text, "2026-03-02T09:00:00-05:00")
    assert due("atm_support", text, "2026-03-02T09:00:00+00:00", "GB") == {}


def test_cfpb_complaint_runs_15_calendar_days_with_60_to_final() -> None:
    found = OBLIGATIONS.deadlines(
        "regulatory_complaint",
        (),
        "I filed a complaint with the CFPB",
        datetime.fromisoformat("2026-01-16T10:00-05:00"),
        "US",
    )
    assert [(d.id, d.due.isoformat()) for d in found] == [("cfpb_complaint_response", "2026-01-31T23:59:59-05:00")]
    assert "60" in found[0].basis


def test_privacy_request_by_jurisdiction_with_a_month_end_clamp() -> None:
    text = "Please delete all my personal data"
    assert due("data_privacy_request", text, "2026-01-31T12:00:00+00:00", "GB") == {
        "privacy_request": "2026-02-28T23:59:59+00:00"
    }
    assert due("data_privacy_request", text, "2026-01-31T12:00:00+01:00", "DE") == {
        "privacy_request": "2026-02-28T23:59:59+01:00"
    }
    assert due("data_privacy_request", text, "2026-01-31T12:00:00+02:00", "ZA") == {
        "privacy_request": "2026-03-02T23:59:59+02:00"
    }
    assert due("data_privacy_request", text, "2026-01-31T12:00:00-08:00", "US-CA") == {
        "privacy_request": "2026-03-17T23:59:59-08:00"
    }
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2026, 12, 15), 1) == date(2027, 1, 15)


def test_due_keeps_the_offset_of_received_at_across_a_dst_change() -> None:
    # received late on Oct 31 in New York (-04:00; UTC already says Nov 1); DST ends on Nov 1, 2026
    text = "I have filed a complaint with the CFPB"
    assert due("regulatory_complaint", text, "2026-10-31T23:30:00-04:00") == {
        "cfpb_complaint_response": "2026-11-15T23:59:59-04:00"
    }
    assert due("regulatory_complaint", text, "2026-11-01T01:30:00-05:00") == {
        "cfpb_complaint_response": "2026-11-16T23:59:59-05:00"
    }


def test_legal_process_runs_to_the_stated_return_date() -> None:
    words = "We enclose a subpoena; please produce the records by March 3, 2027."
    assert due("legal_request", words, "2026-10-30T10:00:00-04:00") == {
        "legal_process_return_date": "2027-03-03T23:59:59-04:00"
    }
    numbers = "Subpoena attached, return date 03/04/2027."
    assert due("legal_request", numbers, "2026-10-30T10:00:00-04:00") == {
        "legal_process_return_date": "2027-03-04T23:59:59-04:00"
    }
    assert due("legal_request", numbers, "2026-10-30T10:00:00+00:00", "GB") == {
        "legal_process_return_date": "2027-04-03T23:59:59+00:00"
    }
    assert stated_dates("comply by the 5th of January 2027 or 2027-02-01", after=date(2026, 12, 1)) == [
        date(2027, 1, 5), date(2027, 2, 1)
    ]  # fmt: skip


def test_legal_process_without_a_date_gets_two_business_days() -> None:
    # received Friday before Thanksgiving week: Mon 23, Tue 24
    assert due("legal_request", "We have a court order for this account", "2026-11-20T10:00:00-05:00") == {
        "legal_process_review": "2026-11-24T23:59:59-05:00"
    }


def test_sar_decision_is_internal_30_calendar_days() -> None:
    found = OBLIGATIONS.deadlines(
        "aml_compliance", (), "Why is my account under review?", datetime.fromisoformat("2026-10-30T10:00-04:00"), "US"
    )
    assert [(d.id, d.due.isoformat(), d.internal) for d in found] == [
        ("sar_decision", "2026-11-29T23:59:59-04:00", True)
    ]


def test_a_plain_question_starts_no_clock() -> None:
    assert due("card_arrival", "Where is my card? It has not come yet", "2026-10-30T10:00:00-04:00") == {}


def test_an_invalid_obligations_file_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "obligations.yaml"
    path.write_text(
        "version: 1\nrules:\n  - id: x\n    tier: legal\n    clocks:\n      - jurisdictions: [USA]\n"
        "        unit: calendar_days\n        count: 3\n        basis: b\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"obligations.yaml:6: rules.0.clocks.0.jurisdictions.0"):
        load_obligations(path)


@pytest.mark.slow
async def test_triage_writes_the_deadlines_of_each_line(settings: Settings, kb_index: object, tmp_path: Path) -> None:
    lines = [
        {"id": "plain", "text": "How do I activate my new card?"},
        {"id": "reg_e", "text": "There is a card payment on my statement I did not make",
         "received_at": "2026-01-16T10:00:00-05:00", "jurisdiction": "US"},
        {"id": "gdpr", "text": "Under GDPR I want a copy of all the personal data you hold about me.",
         "received_at": "2026-01-31T12:00:00+00:00", "jurisdiction": "GB"},
        {"id": "subpoena", "text": "We have served a subpoena on Lumen; produce the records by March 3, 2027.",
         "received_at": "2026-10-30T10:00:00-04:00", "jurisdiction": "US"},
    ]  # fmt: skip
    source, target = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    await run_triage(settings, source, target, model_dir=None, batch=8, progress=Progress(disable=True))
    rows = {row["id"]: row for row in map(json.loads, target.read_text(encoding="utf-8").splitlines())}
    assert rows["plain"]["deadlines"] == []
    assert [(d["id"], d["due"]) for d in rows["reg_e"]["deadlines"]] == [
        ("reg_e_error_resolution", "2026-02-02T23:59:59-05:00")
    ]
    assert [(d["id"], d["due"]) for d in rows["gdpr"]["deadlines"]] == [
        ("privacy_request", "2026-02-28T23:59:59+00:00")
    ]
    assert [(d["id"], d["due"]) for d in rows["subpoena"]["deadlines"]] == [
        ("legal_process_return_date", "2027-03-03T23:59:59-04:00")
    ]
    assert all(set(d) >= {"id", "due", "basis"} for row in rows.values() for d in row["deadlines"])

"""Jurisdictions from what channels say (bot.jurisdictions, bot.intercom.jurisdiction): country names and codes to
ISO 3166, US states to US-XX, and the order an Intercom notification's attributes and location are read in."""

from __future__ import annotations

from typing import Any

import pytest

from bot.intercom.jurisdiction import jurisdiction_of
from bot.intercom.models import Conversation
from bot.jurisdictions import jurisdiction, parse_jurisdiction
from evals.intercom_payloads import conversation


@pytest.mark.parametrize(
    ("country", "region", "expected"),
    [
        ("United States", "California", "US-CA"), ("USA", "TX", "US-TX"), ("US", "new york", "US-NY"),
        ("United States", "Somewhere", "US"), ("United States", None, "US"), ("United Kingdom", "Scotland", "GB-SCT"),
        ("UK", None, "GB"), ("England", None, "GB-ENG"), ("Germany", "Bayern", "DE-BY"), ("DEU", None, "DE"),
        ("South Africa", "Gauteng", "ZA"), ("Côte d'Ivoire", None, "CI"), ("Atlantis", "North", None),
        (None, "CA", None), ("  ", None, None),
    ],
)  # fmt: skip
def test_country_and_region_names_become_iso_codes(country: str | None, region: str | None, expected: str) -> None:
    assert jurisdiction(country, region) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("us-ca", "US-CA"), ("US_CA", "US-CA"), ("GB", "GB"), ("za", "ZA"), ("DE-BY", "DE-BY"), ("US-ZZ", "US"),
        ("Germany", "DE"), ("US/California", "US-CA"), ("California, United States", "US-CA"), ("XX", None),
        ("", None), (42, None), (None, None), ("Mars/Olympus", None),
    ],
)  # fmt: skip
def test_stated_jurisdictions_are_normalised(value: object, expected: str | None) -> None:
    assert parse_jurisdiction(value) == expected


def item(**changes: Any) -> Conversation:
    return Conversation.model_validate(conversation("1", **changes))


def test_an_intercom_conversation_states_it_first_then_the_contact_then_its_location() -> None:
    location = {"location": {"type": "location", "country": "United States", "region": "California", "city": "LA"}}
    attribute = {"custom_attributes": {"jurisdiction": "GB"}}
    assert jurisdiction_of(item()) is None  # nothing said: the configured default applies downstream
    assert jurisdiction_of(item(contact=location)) == "US-CA"
    assert jurisdiction_of(item(contact={**location, **attribute})) == "GB"
    assert jurisdiction_of(item(contact={**location, **attribute}, custom_attributes={"jurisdiction": "za"})) == "ZA"
    assert jurisdiction_of(item(contact=location, custom_attributes={"jurisdiction": "nowhere"})) == "US-CA"
    assert jurisdiction_of(item(contact={"location": {"type": "location", "country": None}})) is None

"""Where a customer is, as the ISO 3166 code the regulatory clocks read (``US``, ``US-CA``, ``GB``, ``GB-SCT``, ``DE``).

Channels describe places in their own words: Intercom's contact location says ``United States`` and ``California``,
a custom attribute may say ``us-ca``. :func:`jurisdiction` normalises a country (name, alpha-2 or alpha-3 code) and an
optional region (subdivision name or code: US states become ``US-XX``) with the ``holidays`` package's registry of
countries and subdivisions, the same tables behind the business-day calendars of :mod:`automations.obligations`.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

__all__ = ["jurisdiction", "parse_jurisdiction"]

_CODE = re.compile(r"^(?P<country>[A-Za-z]{2})(?:[-_ ](?P<sub>[A-Za-z0-9]{1,3}))?$")
_SUBDIVISION = re.compile(r"^[A-Z0-9]{1,3}$")
_ALIASES = {
    "usa": "US", "america": "US", "united states of america": "US", "the united states": "US", "u s": "US",
    "u s a": "US", "uk": "GB", "u k": "GB", "great britain": "GB", "britain": "GB", "england": "GB-ENG",
    "scotland": "GB-SCT", "wales": "GB-WLS", "northern ireland": "GB-NIR", "the netherlands": "NL", "holland": "NL",
    "czech republic": "CZ", "republic of ireland": "IE", "korea": "KR", "republic of korea": "KR",
    "russian federation": "RU", "cote d ivoire": "CI", "viet nam": "VN", "turkiye": "TR", "uae": "AE",
}  # fmt: skip


def _key(text: str) -> str:
    """Lower case, accents and punctuation dropped: ``Côte d'Ivoire`` → ``cote d ivoire``."""
    bare = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", bare.lower()).split())


@cache
def _countries() -> dict[str, str]:
    """Country names and alpha-2/alpha-3 codes (as :func:`_key` writes them) → alpha-2 code."""
    from holidays import registry  # on first use: its calendars take 0.1 s to import, which a web process skips

    found: dict[str, str] = {}
    for name, (_, alpha2, alpha3, *_rest) in registry.COUNTRIES.items():
        found.update({name.replace("_", " "): alpha2, alpha2.lower(): alpha2, alpha3.lower(): alpha2})
    return found | _ALIASES


@cache
def _subdivisions(country: str) -> dict[str, str]:
    """The ISO 3166-2 subdivisions of ``country`` that ``holidays`` knows: name or code (as :func:`_key` writes
    them) → code; empty for a country without any."""
    import holidays

    try:
        calendar = holidays.country_holidays(country)
    except NotImplementedError:
        return {}
    codes = {code for code in calendar.subdivisions if _SUBDIVISION.match(code)}
    found = {_key(code): code for code in codes}
    aliases = getattr(calendar, "subdivisions_aliases", {}) or {}
    found.update({_key(name): code for name, code in aliases.items() if code in codes})
    return found


def _country(text: str) -> str | None:
    return _countries().get(_key(text))


def jurisdiction(country: str | None, region: str | None = None) -> str | None:
    """The ISO 3166 code of a ``country`` (a name or a code) and its ``region`` (a subdivision's name or code):
    ``("United States", "California")`` → ``US-CA``, ``("GB", None)`` → ``GB``; the country alone when the region
    is not one of its subdivisions; ``None`` when the country is unknown."""
    if not country or not country.strip():
        return None
    code = _country(country)
    if code is None:
        return None
    if "-" in code or not region or not region.strip():
        return code
    sub = _subdivisions(code).get(_key(region))
    return f"{code}-{sub}" if sub else code


def parse_jurisdiction(value: object) -> str | None:
    """A jurisdiction written by a person or a system: an ISO code (``us-ca``, ``US_CA``, ``GB``), a country name
    (``Germany``), or ``country/region`` / ``region, country`` (``US/California``, ``California, United States``);
    ``None`` when it names no known country."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if (coded := _CODE.match(text)) is not None and (country := _country(coded["country"])) is not None:
        sub = coded["sub"]
        return jurisdiction(country, sub) if sub else country
    if (whole := _country(text)) is not None:
        return whole
    for sep in ("/", ","):
        if sep in text:
            first, _, second = (part.strip() for part in text.partition(sep))
            if _country(first) is not None:
                return jurisdiction(first, second)
            if _country(second) is not None:
                return jurisdiction(second, first)
    return None

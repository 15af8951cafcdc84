"""The :class:`Redactor`: runs every detector in a fixed order and replaces what they find with typed tokens."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from . import _context, _numbers
from ._common import Detector
from ._phones import PhoneDetector

__all__ = ["DEFAULT_REGIONS", "Redaction", "Redactor", "default_redactor", "redact"]

_MAYBE_PII = re.compile(r"[\d@]")
_NONE: Mapping[str, int] = MappingProxyType({})

# National phone formats understood besides the default region's: the brand's markets, then Latin America.
DEFAULT_REGIONS = ("ZA", "US", "MX", "BR", "AR", "CO")


@dataclass(frozen=True, slots=True)
class Redaction:
    """Result of redacting one text: the redacted text and how many replacements of each kind were made."""

    text: str
    counts: Mapping[str, int]


class Redactor:
    """Replaces PII in free text with typed tokens such as ``[CARD ****1111]``, ``[IBAN]`` or ``[PHONE]``.

    ``default_region`` is the region national-format phone numbers are parsed in first; ``extra_regions`` are tried
    after it (by default South Africa, the US, Mexico, Brazil, Argentina and Colombia).
    """

    def __init__(self, default_region: str = "GB", *, extra_regions: Sequence[str] = DEFAULT_REGIONS) -> None:
        regions = tuple(dict.fromkeys((default_region.upper(), *(r.upper() for r in extra_regions))))
        # Each detector runs on the output of the previous one, so a card number is replaced before the phone
        # detector could take half of it.
        self._detectors: tuple[Detector, ...] = (
            _numbers.emails,
            _numbers.ibans,
            _numbers.long_numbers,
            _numbers.cpf_cuit,
            _numbers.ssns,
            _numbers.uk_pairs,
            _numbers.ninos,
            _numbers.mexican_ids,
            _context.contextual,
            _context.documents,
            PhoneDetector(regions),
        )

    def redact(self, text: str) -> Redaction:
        """Return ``text`` with every detected piece of PII replaced, and the number of replacements per kind."""
        if _MAYBE_PII.search(text) is None:  # every detector needs a digit (an ID, a number) or an "@" (an e-mail)
            return Redaction(text=text, counts=_NONE)
        counts: Counter[str] = Counter()
        for detector in self._detectors:
            pieces: list[str] = []
            pos = 0
            for start, end, kind, token in sorted(detector(text), key=lambda s: (s[0], -s[1])):
                if start < pos:  # overlaps a span already taken
                    continue
                pieces += [text[pos:start], token]
                pos = end
                counts[kind] += 1
            if pieces:
                text = "".join([*pieces, text[pos:]])
        return Redaction(text=text, counts=MappingProxyType(dict(counts)))


_DEFAULT = Redactor()


def default_redactor() -> Redactor:
    """The shared :class:`Redactor` used by :func:`redact` and the logging filter (GB first, then the others)."""
    return _DEFAULT


def redact(text: str) -> str:
    """Redact ``text`` with the shared default :class:`Redactor` (GB phone region first) and return the result."""
    return _DEFAULT.redact(text).text

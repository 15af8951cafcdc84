"""PII redaction: runs before any text is stored, logged or sent to a model.

Detectors run in a fixed order, each on the output of the previous one, so a card number is replaced before the phone
detector could take half of it:

1. by shape and check digits (``_numbers``): emails, IBANs, cards (Luhn, 12-19 digits; 12 only with a Maestro prefix),
   South African ID numbers, Brazilian CPFs, Argentine CUITs, US SSNs/ITINs, UK sort code + account pairs, UK National
   Insurance numbers, Mexican CURPs/RFCs;
2. by a nearby keyword (``_context``): account / member / routing / sort code / SSN / ID / card numbers before or
   just after their keyword, passport and driving licence numbers;
3. phone numbers (``_phones``): international, or national formats of GB, ZA, US, MX, BR, AR and CO, extensions
   included; short local numbers only next to a phone keyword.

Tokens: ``[CARD ****1234]`` (last four kept), ``[IBAN]``, ``[ROUTING]``, ``[SORT_CODE]``, ``[ACCOUNT]``, ``[SSN]``,
``[NATIONAL_ID]`` (ID cards, NINO, CPF, CURP, passports, driving licences), ``[EMAIL]``, ``[PHONE]``. Ordinary banking
text (amounts, dates, times, percentages, references such as "REF 4821", "card ending 1234") is left alone.
"""

from __future__ import annotations

from ._core import Redaction, Redactor, redact
from ._logs import RedactingFilter, install_log_redaction

__all__ = ["RedactingFilter", "Redaction", "Redactor", "install_log_redaction", "redact"]

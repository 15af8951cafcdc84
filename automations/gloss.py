"""A word-for-word English gloss of a Spanish or Portuguese message, so that the English safety rules can read it.

The classifier and most patterns read English only; a message mainly in another language used to be judged by a few
translated key terms alone, and one phrased otherwise ("alguém invadiu minha conta e sumiu dinheiro") went to a
general queue instead of fraud. The gloss replaces each word or set phrase of the language's glossary
(``language.glossary`` in ``automations/data/safety.yaml``) with its English sense, longest phrase first, accents
folded, and leaves every other token (names, amounts, cognates) as it was. The result is broken English ("someone
broke into my account and disappeared money") but it carries the words the patterns and signals look for. It is used
for routing only, never shown to anyone, and it can only add a protected team: the message still goes to a person.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

__all__ = ["Glossary", "fold"]


def fold(text: str) -> str:
    """``text`` in lower case with its accents removed ("Está" → "esta", "cartão" → "cartao")."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


class Glossary:
    """Glosses text in the languages of its tables (ISO 639 code → phrase → English)."""

    def __init__(self, tables: Mapping[str, Mapping[str, str]]) -> None:
        """Index ``tables`` by folded phrase: one pattern a language, longest phrase first."""
        self._tables: dict[str, tuple[dict[str, str], re.Pattern[str]]] = {}
        for code, table in tables.items():
            folded = {" ".join(fold(phrase).split()): english for phrase, english in table.items() if phrase.strip()}
            ordered = sorted(folded, key=len, reverse=True)
            alternatives = "|".join(r"\s+".join(map(re.escape, phrase.split())) for phrase in ordered)
            self._tables[code] = (folded, re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)"))

    @property
    def languages(self) -> frozenset[str]:
        """The languages this glossary can gloss."""
        return frozenset(self._tables)

    def gloss(self, text: str, language: str) -> str | None:
        """The English gloss of ``text`` written in ``language`` (folded: lower case, no accents), or ``None`` when
        there is no table for it. Words not in the table, amounts and punctuation stay as they were."""
        found = self._tables.get(language)
        if found is None:
            return None
        table, pattern = found
        glossed = pattern.sub(lambda m: table[" ".join(m.group(0).split())], fold(text))
        return " ".join(glossed.split())

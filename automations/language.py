"""Which language a customer wrote in: the classifier reads English only, so its view of another language is noise.

Language identification is py3langid's bundled naive-Bayes model, loaded from the package once per process when the
safety rules are validated (about half a second), and restricted to the ``candidates`` of
``automations/data/safety.yaml``: the model also knows dozens of regional varieties (Extremaduran, Aragonese and
Galician beside Spanish) that only split the probability of a short Spanish message. Then it costs well under a
millisecond a message. A message counts as written in another language only when it has ``min_words`` words and the
model gives one language outside ``readable`` at least ``min_probability``. Capitalised words inside a sentence are
left out first, so a Dutch surname or a Portuguese bank ("Transfer from Caixa Geral de Depósitos") does not make an
English sentence foreign.
"""

from __future__ import annotations

import copy
import re
from functools import cache
from typing import Any

from py3langid.langid import MODEL_FILE, LanguageIdentifier  # type: ignore[import-untyped]
from pydantic import BaseModel, ConfigDict, Field

__all__ = ["LanguageRules", "foreign_language", "unknown_languages"]

# a word: two letters or more; in scripts written without spaces (Chinese, Japanese, Thai) each letter counts as one
_WORD = re.compile(r"[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]|[^\W\d_]{2,}")
_QUOTES = "\"'“”‘’()[]¿¡*"


class LanguageRules(BaseModel):
    """When a message counts as written in a language the classifier cannot read."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    min_words: int = Field(default=3, ge=1)
    min_probability: float = Field(default=0.6, gt=0.0, le=1.0)
    readable: tuple[str, ...] = ("en",)
    candidates: tuple[str, ...] = ()
    glossary: dict[str, dict[str, str]] = Field(default_factory=dict)
    """Per language (ISO 639 code): phrase -> its English sense, for :class:`automations.gloss.Glossary`."""


@cache
def _model() -> Any:
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


@cache
def _identifier(candidates: tuple[str, ...]) -> Any:
    identifier = copy.copy(_model())  # restricting replaces the copy's tables and leaves the model's own alone
    if candidates:
        identifier.set_languages(list(candidates))
    return identifier


def unknown_languages(codes: tuple[str, ...]) -> list[str]:
    """The codes among ``codes`` that the language model does not know (this loads the model, once a process)."""
    known = set(_model().labels)
    return [code for code in codes if code not in known]


def _without_names(text: str) -> str:
    """``text`` without the capitalised words inside its sentences (names of people, banks and shops); "I" stays."""
    if text.isupper():
        return text
    kept, start = [], True
    for token in text.split():
        word = token.strip(_QUOTES)
        if start or not word[:1].isupper() or word == "I" or word.startswith(("I'", "I’")):
            kept.append(token)
        start = token[-1:] in ".!?:" and len(word.rstrip(".!?:")) > 1  # "J. Oosthuizen": an initial ends no sentence
    return " ".join(kept)


def foreign_language(text: str, rules: LanguageRules) -> str | None:
    """The ISO 639 code of the language ``text`` is mainly written in, when that is not one the classifier reads
    (``rules.readable``) and the model is sure of it; ``None`` for English, and for short or uncertain text."""
    text = _without_names(text)
    if len(_WORD.findall(text)) < rules.min_words:
        return None
    label, probability = _identifier(rules.candidates).classify(text)
    code, confidence = str(label), float(probability)
    return code if code not in rules.readable and confidence >= rules.min_probability else None

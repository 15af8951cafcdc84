"""Choosing the section that answers a question: dense similarity, BM25 and the classified driver, never an intro.

The index scores each section by the cosine of the question with the section's heading and body (MiniLM). On the
blind answers dev set that alone picked an article's introduction for 7 % of the questions, and a section without
the key facts for a quarter. The ranker adds two signals, chosen by their figures on that set (see
``evals/answer_facts.py``; the options measured are in the module's report):

- **BM25** over the section's heading (twice) and body, normalised by the best BM25 among the candidates, weighted
  ``lexical``: the words a customer uses ("Germany", "Netflix", "petrol") name the section's facts;
- **the driver as a prior**: sections of the classified category's articles get ``prior`` added, so a section of
  another article wins only when it matches clearly better. The other articles are those of the categories the
  classifier also finds likely (:func:`likely_articles`), not the whole knowledge base: on Banking77 test, an open
  choice put a fifth of the answers the classifier got right under another intent's article.

An article's introduction (the section whose heading is the article's title) is never a candidate: it says what the
article is about, not the answer. (The extractive answerer may quote a close runner-up of the same article too.)
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace

from automations.models import Classification, Passage
from automations.taxonomy import Taxonomy

__all__ = ["LIKELY", "SectionRanker", "is_intro", "likely_articles", "words"]

LIKELY = 0.05
"""A category the classifier gives at least this probability lends its articles to the candidates."""

_WORD = re.compile(r"[a-z0-9£€$%]+")
_STOP_WORDS = (
    "a an the i im m me my to of and or is it in on for do does did can could you your we our with at be was were "
    "what how why when where which will would this that there have has had not no yes so if are as by from get got "
    "am been just please pls u"
)
_STOP = frozenset(_STOP_WORDS.split())


def words(text: str) -> list[str]:
    """Lower-cased word tokens of ``text`` without stop words (what BM25 matches on)."""
    return [w for w in _WORD.findall(text.lower()) if w not in _STOP]


def is_intro(passage: Passage) -> bool:
    """Whether ``passage`` is its article's introduction (the text before the first heading of an article that has
    headings); an index without the flag falls back to "the section carries the article's title"."""
    return passage.intro if passage.intro is not None else passage.section == passage.title


def likely_articles(
    classification: Classification, taxonomy: Taxonomy, driver: tuple[str, ...], *, minimum: float = LIKELY
) -> tuple[str, ...]:
    """The driver's articles, then those of the other bot-answerable categories among the classifier's top ones with
    at least ``minimum`` probability: where the answer may be when the driver is not quite the question's."""
    out = list(driver)
    for category, probability in classification.ranked[1:]:
        if probability >= minimum and category in taxonomy and taxonomy.category(category).bot_may_answer:
            out += [a for a in taxonomy.category(category).articles if a not in out]
    return tuple(out)


def _document(passage: Passage) -> list[str]:
    return words(f"{passage.section} {passage.section} {passage.text}")


@dataclass(frozen=True, slots=True)
class _Stats:
    idf: dict[str, float]
    average: float


def _stats(documents: Iterable[list[str]]) -> _Stats:
    docs = list(documents)
    frequency: Counter[str] = Counter(w for d in docs for w in set(d))
    n = max(1, len(docs))
    idf = {w: math.log(1 + (n - f + 0.5) / (f + 0.5)) for w, f in frequency.items()}
    return _Stats(idf, sum(map(len, docs)) / n if docs else 1.0)


class SectionRanker:
    """Re-ranks retrieved sections for a question; each passage's ``score`` becomes the combined score.

    ``corpus``: every section of the knowledge base (its word statistics weigh rare words up); without one, the
    candidates themselves are the corpus.
    """

    def __init__(
        self,
        corpus: Sequence[Passage] = (),
        *,
        lexical: float = 0.3,
        prior: float = 0.1,
        k1: float = 1.2,
        b: float = 0.75,
    ) -> None:
        self.lexical, self.prior, self._k1, self._b = lexical, prior, k1, b
        self._corpus = _stats(_document(p) for p in corpus) if corpus else None

    def bm25(self, question: str, passages: Sequence[Passage]) -> list[float]:
        """BM25 of ``question`` against each passage."""
        docs = [_document(p) for p in passages]
        stats = self._corpus or _stats(docs)
        terms = set(words(question))
        scores = []
        for doc in docs:
            tf, length, score = Counter(doc), len(doc), 0.0
            for w in terms & tf.keys():
                norm = tf[w] + self._k1 * (1 - self._b + self._b * length / max(stats.average, 1.0))
                score += stats.idf.get(w, math.log(2.0)) * tf[w] * (self._k1 + 1) / norm
            scores.append(score)
        return scores

    def rank(
        self, question: str, passages: Sequence[Passage], driver: Collection[str] = (), *, floor: float = -1.0
    ) -> list[Passage]:
        """The candidates (no introductions, each section once, similarity at least ``floor``) best first, scored
        ``cosine + lexical · BM25 / best BM25 + prior · [article of the driver]``; ``driver``: the classified
        category's article ids. None at all: no section answers well enough."""
        seen: dict[tuple[str, str], Passage] = {}
        for p in passages:
            key = (p.article_id, p.section)
            if p.score >= floor and not is_intro(p) and (key not in seen or p.score > seen[key].score):
                seen[key] = p
        candidates = list(seen.values())
        if not candidates:
            return []
        lexical = self.bm25(question, candidates)
        top = max(lexical) or 1.0
        scored = [
            replace(p, score=p.score + self.lexical * s / top + (self.prior if p.article_id in driver else 0.0))
            for p, s in zip(candidates, lexical, strict=True)
        ]
        return sorted(scored, key=lambda p: -p.score)

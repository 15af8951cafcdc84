"""N-gram overlap checks: a customer reply must not reuse wording from internal articles or from the system prompt."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["LeakGuard", "ngrams", "prompt_overlap", "words"]

_WORD = re.compile(r"[a-z0-9£$€%]+(?:['’][a-z]+)?")


def words(text: str) -> list[str]:
    """Lower-cased word tokens (markup and punctuation dropped)."""
    return _WORD.findall(text.lower())


def ngrams(text: str, n: int) -> set[tuple[str, ...]]:
    """Every run of ``n`` consecutive words of ``text``."""
    toks = words(text)
    return {tuple(toks[i : i + n]) for i in range(len(toks) - n + 1)}


@dataclass(frozen=True, slots=True)
class LeakGuard:
    """Word n-grams that only internal articles contain (n-grams also found in public articles are common phrasing
    and do not count), and the internal link hosts."""

    internal: frozenset[tuple[str, ...]]
    hosts: frozenset[str]
    n: int = 5

    @classmethod
    def build(
        cls, internal: Iterable[str], public: Iterable[str], *, hosts: Iterable[str] = (), n: int = 5
    ) -> LeakGuard:
        """Index internal texts against public ones."""
        shared: set[tuple[str, ...]] = set()
        for text in public:
            shared |= ngrams(text, n)
        private: set[tuple[str, ...]] = set()
        for text in internal:
            private |= ngrams(text, n)
        return cls(frozenset(private - shared), frozenset(h.lower() for h in hosts), n)

    def internal_overlap(self, draft: str, allowed: Iterable[str] = ()) -> list[str]:
        """The internal-only n-grams (or internal hosts) found in ``draft`` and not in ``allowed`` texts."""
        low = draft.lower()
        found = [host for host in sorted(self.hosts) if host in low]
        permitted: set[tuple[str, ...]] = set()
        for text in allowed:
            permitted |= ngrams(text, self.n)
        found += [" ".join(g) for g in sorted((ngrams(draft, self.n) & self.internal) - permitted)]
        return found


def prompt_overlap(draft: str, prompt: str, allowed: Iterable[str] = (), *, n: int = 5) -> list[str]:
    """N-grams of the system ``prompt`` repeated in ``draft`` that the ``allowed`` passages do not also contain."""
    permitted: set[tuple[str, ...]] = set()
    for text in allowed:
        permitted |= ngrams(text, n)
    return [" ".join(g) for g in sorted((ngrams(draft, n) & ngrams(prompt, n)) - permitted)]

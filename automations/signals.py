"""Signals that no single sentence pattern catches, and where each protected kind is handed.

A signal names a protected kind (:data:`automations.risk.RISK_KINDS`) and fires when *every* one of its ``all``
patterns matches somewhere in the message, in any order, and none of its ``unless`` patterns does: a lost or stolen
card or phone **and** money gone or someone using the app is a fraud claim; "I lost my card, nothing has been spent"
is not. Each carries the note an agent reads at the top of the hand-off summary.

:func:`route` turns a kind (from a signal or the learned risk layer) into the category, hence the team, that gets
the contact: an error notice goes to fraud, unless it is about an ATM that paid out short or nothing, which goes to
payments: the words must place it at a cash machine (``error_notice_atm``, or a signal marked ``at_cash_machine``),
and the customer must not deny the withdrawal (``unrecognised``, alibis included). A withdrawal the customer did not
make ("I was asleep and my card is right here") is fraud, at a cash machine or not; the classifier's guess alone
decides neither.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from automations.prefilter import ScreenedPattern, Searcher
from automations.risk_kinds import ATM_CASH_CATEGORY, KIND_CATEGORY, RISK_KINDS

__all__ = ["ATM_CATEGORIES", "AtmCues", "CompiledSignal", "Signal", "SignalRules", "compile_signals", "route"]


def _regex(pattern: str) -> str:
    try:
        re.compile(pattern, re.IGNORECASE)
    except re.error as exc:  # reported by pydantic with the pattern's own location, hence file and line
        raise ValueError(f"invalid regular expression: {exc}") from exc
    return pattern


def _kind(kind: str) -> str:
    if kind not in RISK_KINDS:
        raise ValueError(f"unknown kind {kind!r}; kinds are {', '.join(RISK_KINDS)}")
    return kind


Pattern = Annotated[str, AfterValidator(_regex)]
Kind = Annotated[str, AfterValidator(_kind)]

ATM_CATEGORIES = frozenset({ATM_CASH_CATEGORY})
"""Classifier categories that place an error notice at the cash machine (beside the ``error_notice_atm`` words)."""


class Signal(BaseModel):
    """One signal of ``safety.yaml``: every ``all`` pattern matches, no ``unless`` pattern does."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(min_length=1)
    kind: Kind
    note: str = Field(min_length=1)
    all: list[list[Pattern]] = Field(min_length=1)
    unless: list[Pattern] = Field(default_factory=list)
    at_cash_machine: bool = False
    """An error notice this signal finds is at a cash machine that paid out short or nothing (payments), unless the
    customer denies making the withdrawal."""


class SignalRules(BaseModel):
    """The ``signals`` section of ``safety.yaml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    rules: list[Signal] = Field(default_factory=list)
    error_notice_atm: list[Pattern] = Field(default_factory=list)
    unrecognised: list[Pattern] = Field(default_factory=list)


def _any(patterns: Sequence[str]) -> Searcher:
    """The alternation of ``patterns`` (none: never matches), screened by its literal beginnings (the same answers)."""
    return ScreenedPattern(patterns or ["(?!)"], re.IGNORECASE | re.MULTILINE)


class CompiledSignal:
    """A :class:`Signal` ready to match."""

    def __init__(self, signal: Signal) -> None:
        self.name, self.kind, self.note = signal.name, signal.kind, signal.note
        self.at_cash_machine = signal.at_cash_machine
        self._all = [_any(group) for group in signal.all]
        self._unless = _any(signal.unless) if signal.unless else None

    def match(self, text: str) -> str | None:
        """The matched parts joined by ``+`` when the signal fires on ``text``, else ``None``."""
        if self._unless is not None and self._unless.search(text):
            return None
        found = []
        for pattern in self._all:
            match = pattern.search(text)
            if match is None:
                return None
            found.append(match.group(0)[:30])
        return " + ".join(found)


class AtmCues:
    """The words that send an error notice to payments: at a cash machine, for a withdrawal the customer made."""

    def __init__(self, rules: SignalRules) -> None:
        self._atm, self._unrecognised = _any(rules.error_notice_atm), _any(rules.unrecognised)

    def paid_out_short(self, text: str) -> bool:
        """Whether ``text`` places an error notice at a cash machine, for a withdrawal the customer made."""
        return self._atm.search(text) is not None and not self.denied(text)

    def denied(self, text: str) -> bool:
        """Whether the customer says they did not make the transaction (or could not have: asleep, elsewhere)."""
        return self._unrecognised.search(text) is not None


def compile_signals(rules: SignalRules) -> tuple[list[CompiledSignal], AtmCues]:
    """The signals and the cash-machine cues, compiled."""
    return [CompiledSignal(s) for s in rules.rules], AtmCues(rules)


def route(kind: str, text: str, atm: AtmCues) -> str:
    """The category a contact of ``kind`` is handed to. An error notice about an ATM that paid out short goes to
    :data:`ATM_CASH_CATEGORY` (payments), unless the customer says they did not make the withdrawal at all."""
    if kind != "error_notice":
        return KIND_CATEGORY[kind]
    return ATM_CASH_CATEGORY if atm.paid_out_short(text) else KIND_CATEGORY[kind]

"""The packaged taxonomy and safety rules, loaded once for tests that build LLM parts without the composition root."""

from __future__ import annotations

from automations.safety import SafetyGate, load_safety_rules
from automations.taxonomy import load_taxonomy

__all__ = ["RULES"]

RULES = {"taxonomy": load_taxonomy(), "safety": SafetyGate(load_safety_rules())}

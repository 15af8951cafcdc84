"""The protected kinds the learned risk layer (:mod:`automations.risk`) scores, and the category each is handed to:
plain constants, importable without numpy (the taxonomy and the safety rules read them in every process)."""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["ATM_CASH_CATEGORY", "KIND_CATEGORY", "ORDINARY", "RISK_KINDS"]

ORDINARY = "ordinary"
RISK_KINDS = ("fraud", "error_notice", "identity_change", "legal", "regulatory", "aml", "privacy")
KIND_CATEGORY: Mapping[str, str] = {
    "fraud": "suspected_fraud",
    "error_notice": "suspected_fraud",
    "identity_change": "identity_data_change",
    "legal": "legal_request",
    "regulatory": "regulatory_complaint",
    "aml": "aml_compliance",
    "privacy": "data_privacy_request",
}
"""The category (hence the team) each kind is handed to. An error notice about money the customer did not take out,
or did not make, goes to fraud; one about an ATM that paid out short goes to :data:`ATM_CASH_CATEGORY` instead."""
ATM_CASH_CATEGORY = "wrong_amount_of_cash_received"

"""Error notices in everyday words, and the words of other languages that are not acronyms (examples written for
these tests, not taken from any set): charged twice, charged although declined, charged the wrong amount, or charged
after cancelling is an error notice for fraud and disputes; a question about how charges work is not."""

from __future__ import annotations

import pytest

from tests.test_signals import verdict


@pytest.mark.parametrize(
    "text",
    [
        "the gym charged me twice this month, 2 x 30",
        "card was declined at the bakery but the money came out anyway",
        "the till said 12.50 and my app shows 125.00, that's wrong",
        "I paid 20 for lunch and the app charged me 200",
        "they took 9.99 again even though I cancelled in March",
        "so I'm 40 quid down for nothing?",
        "Me cobraron dos veces la misma compra en el súper.",
        "Fui cobrado duas vezes no mesmo restaurante.",
        "someone emptied my savings account overnight",
        "my card details have been compromised, there's a charge from a shop abroad",
    ],
)
def test_a_wrong_charge_reaches_fraud(text: str) -> None:
    assert verdict(text) == "suspected_fraud"


@pytest.mark.parametrize(
    "text",
    [
        "what happens if I'm charged twice by a shop?",
        "why do hotels put a pending hold twice on my card?",
        "how long does a refund take to show?",
        "Quero saber pra que serve o cartão virtual.",  # "pra" is Portuguese for "para", not the PRA
        "Preciso de ajuda pra mudar o PIN do cartão.",
    ],
)
def test_questions_about_charges_and_portuguese_pra_are_not_routed(text: str) -> None:
    assert verdict(text) is None


@pytest.mark.parametrize(
    "text",
    ["Meu CPF está cadastrado errado na conta.", "Cambié mi nombre legalmente, ¿cómo lo actualizo?",
     "I used to have an ITIN and now I've got an SSN, please replace it."],
)  # fmt: skip
def test_identity_changes_in_other_words_go_to_t2(text: str) -> None:
    assert verdict(text) == "identity_data_change"


def test_a_regulator_acronym_counts_only_in_capitals() -> None:
    assert verdict("I will report this to the FCA") == "regulatory_complaint"
    assert verdict("Vou reclamar no Procon e no Banco Central.") == "regulatory_complaint"

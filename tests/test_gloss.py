"""Spanish and Portuguese messages are read by the English rules through a word-for-word gloss (examples written for
these tests, not taken from any set): a protected matter in words no translated key term covers reaches its team, an
everyday question still goes to a person in t1, and the gloss never answers anything."""

from __future__ import annotations

import pytest

from automations.gloss import Glossary, fold
from automations.models import Action, Contact
from tests.test_pipeline import SAFETY, make_pipeline


def test_fold_drops_case_and_accents() -> None:
    assert fold("Cartão ROUBADO, ¿Está?") == "cartao roubado, ¿esta?"


def test_the_longest_phrase_wins_and_unknown_words_stay() -> None:
    glossary = Glossary({"pt": {"meu": "my", "meu cartão": "my card", "sumiu": "disappeared"}})
    assert glossary.gloss("Meu cartão sumiu em Lisboa, R$ 40", "pt") == "my card disappeared em lisboa, r$ 40"
    assert glossary.gloss("meu cartãozinho", "pt") == "my cartaozinho"  # whole words only
    assert glossary.gloss("anything", "es") is None
    assert glossary.languages == frozenset({"pt"})


@pytest.mark.parametrize(
    ("text", "language", "category"),
    [
        ("perdi o celular na praia e depois transferiram dinheiro da minha conta", "pt", "suspected_fraud"),
        ("se me cayó la cartera en el bus y ya usaron mi tarjeta en tres tiendas", "es", "suspected_fraud"),
        ("cancelé el gimnasio en marzo y me siguen cobrando todos los meses", "es", "suspected_fraud"),
        ("quero que vocês apaguem meus dados pessoais de todos os sistemas", "pt", "data_privacy_request"),
        ("meu pai faleceu e eu sou o inventariante, como encerro a conta dele?", "pt", "legal_request"),
    ],
)
def test_a_protected_matter_is_read_through_its_gloss(text: str, language: str, category: str) -> None:
    assert SAFETY.language(text) == language
    verdict = SAFETY.check_foreign(text, language)
    assert verdict.category == category


@pytest.mark.parametrize(
    "text",
    ["¿cuánto tarda una transferencia a otro banco?", "como faço pra mudar o limite do cartão?"],
)
def test_an_everyday_question_stays_unrouted(text: str) -> None:
    language = SAFETY.language(text)
    assert language in {"es", "pt"}
    assert SAFETY.check_foreign(text, language).category is None


async def test_the_pipeline_hands_a_glossed_fraud_report_to_fraud() -> None:
    text = "perdí mi celular en el metro y ahora veo compras que no reconozco"
    decision = await make_pipeline().pipeline.handle(Contact("g1", text))
    assert (decision.action, decision.tier) == (Action.HANDOFF, "fraud")
    everyday = await make_pipeline().pipeline.handle(Contact("g2", "¿cuánto tarda una transferencia a otro banco?"))
    assert (everyday.action, everyday.tier) == (Action.HANDOFF, "t1")

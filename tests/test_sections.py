"""Section choice: the ranker never offers an introduction, weighs the customer's words and the classified driver, and
the extractive answer quotes the section (and a close runner-up of the same article) that answers."""

from __future__ import annotations

from dataclasses import replace

from automations.answering import ExtractiveAnswerer, format_passages
from automations.models import Action, Channel, Classification, Contact, Passage, Visibility
from automations.sections import SectionRanker, is_intro, likely_articles, words
from automations.taxonomy import load_taxonomy

URL = "https://help.example/articles/"


def section(article: str, heading: str, text: str, score: float, title: str = "Card delivery") -> Passage:
    return Passage(article, title, heading, text, URL + article, Visibility.PUBLIC, (), score)


INTRO = section("card-delivery", "Card delivery", "How long a card takes to arrive, and what to do if it doesn't.", 0.8)
TIMES = section(
    "card-delivery", "How long does card delivery take?", "Standard delivery takes 3-5 working days in the UK and "
    "5-10 working days in the EU, such as Germany or France.", 0.55,
)  # fmt: skip
LATE = section("card-delivery", "My card hasn't arrived yet", "If it has been more than 10 working days, order a new "
               "card in the app.", 0.6)  # fmt: skip
OTHER = section("top-up", "How do I top up?", "Top up by card or bank transfer.", 0.58, title="Top-ups")


def test_an_introduction_is_never_a_candidate() -> None:
    ranked = SectionRanker().rank("how long till my card gets here", [INTRO, TIMES, LATE])
    assert ranked and not any(is_intro(p) for p in ranked)
    assert is_intro(INTRO) and not is_intro(TIMES)


def test_the_customers_words_pick_the_section_that_carries_the_fact() -> None:
    # by cosine alone "My card hasn't arrived yet" wins; "Germany" names the delivery-times section
    question = "I live in Germany, how long till my card gets here"
    assert max([TIMES, LATE], key=lambda p: p.score) is LATE
    ranked = SectionRanker([INTRO, TIMES, LATE, OTHER]).rank(question, [TIMES, LATE])
    assert ranked[0].section == TIMES.section
    assert ranked[0].score > TIMES.score  # the combined score is reported


def test_the_driver_is_a_prior_not_a_veto() -> None:
    ranker = SectionRanker(lexical=0.0, prior=0.1)
    assert ranker.rank("top up", [LATE, OTHER], driver=("top-up",))[0].article_id == "top-up"
    assert ranker.rank("top up", [LATE, OTHER], driver=("card-delivery",))[0].article_id == "card-delivery"
    far = section("top-up", "Top-up limits", "Limits.", 0.2, title="Top-ups")
    assert ranker.rank("top up", [LATE, far], driver=("top-up",))[0].article_id == "card-delivery"


def test_each_section_once_and_none_when_only_an_intro_matches() -> None:
    assert SectionRanker().rank("anything", [INTRO]) == []
    twice = SectionRanker().rank("delivery", [TIMES, TIMES, LATE])
    assert len(twice) == 2


def test_words_drop_stop_words() -> None:
    assert words("How do I top up my card in Germany?") == ["top", "up", "card", "germany"]


async def test_a_close_runner_up_of_the_same_article_joins_the_reply() -> None:
    ranked = SectionRanker().rank("card delivery", [TIMES, LATE, OTHER])
    answer = await ExtractiveAnswerer(margin=1.0).answer("q", ranked, Channel.CUSTOMER)
    assert answer is not None
    assert TIMES.text in answer.text and LATE.text in answer.text and OTHER.text not in answer.text
    assert answer.text.count("More in") == 1 and answer.text.endswith(URL + "card-delivery")
    single = await ExtractiveAnswerer().answer("q", ranked, Channel.CUSTOMER)
    assert single is not None and single.text.count("**") == 2  # one heading: no runner-up without a margin


def test_two_sections_are_trimmed_each_and_linked_once() -> None:
    steps = "\n".join(f"- step {i} " + "x" * 80 for i in range(30))
    long = section("card-delivery", "Steps", "Opening line.\n\n" + steps, 0.5)
    text = format_passages([TIMES, long], limit=300)
    assert text.startswith(f"**{TIMES.section}**") and "**Steps**" in text
    assert text.rstrip().endswith(f"The rest is in “Card delivery”: {URL}card-delivery")
    assert len(text) < 1000


def test_likely_articles_are_the_drivers_then_those_of_other_likely_answerable_categories() -> None:
    taxonomy = load_taxonomy()
    driver = taxonomy.category("cash_withdrawal_charge").articles
    ranked = (("cash_withdrawal_charge", 0.80), ("declined_cash_withdrawal", 0.12), ("card_arrival", 0.03))
    found = likely_articles(Classification("cash_withdrawal_charge", 0.8, ranked), taxonomy, driver)
    assert found[: len(driver)] == driver
    extra = [a for a in taxonomy.category("declined_cash_withdrawal").articles if a not in driver]
    assert extra and set(extra) <= set(found)  # 12 %: likely
    unlikely = [a for a in taxonomy.category("card_arrival").articles if a not in driver + tuple(extra)]
    assert unlikely and not set(unlikely) & set(found)  # 3 %: not
    # a protected category lends nothing, however likely
    protected = (("cash_withdrawal_charge", 0.6), ("compromised_card", 0.4))
    assert likely_articles(Classification("cash_withdrawal_charge", 0.6, protected), taxonomy, driver) == driver


async def test_the_pipeline_never_answers_with_an_introduction_and_hands_off_when_only_one_matches() -> None:
    from tests.test_pipeline import DELIVERY, make_pipeline

    intro = replace(DELIVERY, section=DELIVERY.title, text="Where is my card? Everything about card delivery.")
    w = make_pipeline(passages=(intro, DELIVERY))
    answered = await w.pipeline.handle(Contact("c1", "Where is my card? It has not come yet", customer_id="u1"))
    assert answered.action is Action.ANSWER and answered.reply is not None
    assert DELIVERY.text in answered.reply and intro.text not in answered.reply
    assert all(not is_intro(p) for p in answered.passages)
    alone = make_pipeline(passages=(intro,))
    handed = await alone.pipeline.handle(Contact("c2", "Where is my card? It has not come yet", customer_id="u2"))
    assert (handed.action, handed.reason) == (Action.HANDOFF, "low_retrieval_score")

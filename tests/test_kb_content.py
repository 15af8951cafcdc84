"""The shipped help centre agrees with the taxonomy: every answerable category has a public article, and every
article lists exactly the categories that point at it (internal ones may list more)."""

from __future__ import annotations

from collections import defaultdict

from automations.models import Visibility
from automations.taxonomy import load_taxonomy
from bot.settings import DEFAULT_KB
from knowledge.ingest import load_folder


def test_every_answerable_category_has_a_public_article() -> None:
    taxonomy = load_taxonomy()
    articles = {a.meta.id: a for a in load_folder(DEFAULT_KB)}
    for cat in taxonomy:
        for article_id in cat.articles:
            assert article_id in articles, f"{cat.id} points at missing article {article_id}"
        if cat.bot_may_answer and cat.reply is None:
            public = [a for a in cat.articles if articles[a].meta.visibility is Visibility.PUBLIC]
            assert public, f"{cat.id} is answerable but has no public article"


def test_article_front_matter_matches_the_taxonomy() -> None:
    taxonomy = load_taxonomy()
    pointing: dict[str, set[str]] = defaultdict(set)
    for cat in taxonomy:
        for article_id in cat.articles:
            pointing[article_id].add(cat.id)
    for article in load_folder(DEFAULT_KB):
        listed = set(article.meta.categories)
        assert listed <= set(taxonomy.ids), f"{article.source} lists unknown categories {listed - set(taxonomy.ids)}"
        if article.meta.visibility is Visibility.PUBLIC:
            assert listed == pointing[article.meta.id], article.source
        else:
            assert pointing[article.meta.id] <= listed, article.source


def test_internal_procedures_exist_for_protected_work() -> None:
    internal = {a.meta.id for a in load_folder(DEFAULT_KB) if a.meta.visibility is Visibility.INTERNAL}
    for needed in ("internal-chargebacks", "internal-legal-process-intake", "internal-sar-escalation",
                   "internal-ato-recovery", "internal-dsar-handling", "internal-complaints-handling"):  # fmt: skip
        assert needed in internal

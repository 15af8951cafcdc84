"""Broken configuration and data files fail with a ConfigError that names the file and the exact line."""

from __future__ import annotations

from pathlib import Path

import pytest

from automations.classifier.training import read_labelled_csv
from automations.configfile import ConfigError
from automations.safety import DEFAULT_RULES, load_safety_rules
from automations.taxonomy import DEFAULT_TAXONOMY, load_taxonomy
from knowledge.articles import load_article

TAXONOMY_TEXT = DEFAULT_TAXONOMY.read_text(encoding="utf-8")
SAFETY_TEXT = DEFAULT_RULES.read_text(encoding="utf-8")
CARD_ARRIVAL = "  - {id: card_arrival, group: Cards, tier: t1, bot_may_answer: true, articles: [card-delivery]}\n"
LEGAL = "  - {id: legal_request, group: Compliance & legal, tier: legal, bot_may_answer: false, sensitive: true,"


def line_of(text: str, needle: str) -> int:
    """1-based line of the only occurrence of ``needle`` in ``text``."""
    assert text.count(needle) == 1, needle
    return text[: text.index(needle)].count("\n") + 1


def broken(tmp_path: Path, original: str, old: str, new: str, name: str = "taxonomy.yaml") -> tuple[Path, str]:
    assert original.count(old) == 1, old
    text = original.replace(old, new)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path, text


def expect(exc: ConfigError, path: Path, line: int, *fragments: str) -> None:
    assert str(exc).startswith(f"{path}:{line}: "), str(exc)
    assert exc.path == path and exc.line == line
    for fragment in fragments:
        assert fragment in str(exc), (fragment, str(exc))


def test_the_shipped_files_load() -> None:
    assert "legal_request" in load_taxonomy()
    assert load_safety_rules().categories["legal_request"]


def test_taxonomy_yaml_syntax_error(tmp_path: Path) -> None:
    path, text = broken(tmp_path, TAXONOMY_TEXT, "version: 1\n", "version: 1\nowner: support: cards\n")
    with pytest.raises(ConfigError) as info:
        load_taxonomy(path)
    expect(info.value, path, line_of(text, "owner: support"), "invalid YAML")


def test_taxonomy_unknown_tier_on_a_category(tmp_path: Path) -> None:
    new = CARD_ARRIVAL.replace("tier: t1", "tier: t9")
    path, text = broken(tmp_path, TAXONOMY_TEXT, CARD_ARRIVAL, new)
    with pytest.raises(ConfigError) as info:
        load_taxonomy(path)
    expect(info.value, path, line_of(text, "tier: t9"), "unknown tier 't9'")


@pytest.mark.parametrize(
    "change",
    [
        ("bot_may_answer: false", "bot_may_answer: true"),
        ("tier: legal", "tier: t1"),
        ("sensitive: true", "sensitive: false"),
    ],
)
def test_taxonomy_protected_category_cannot_be_loosened(tmp_path: Path, change: tuple[str, str]) -> None:
    path, text = broken(tmp_path, TAXONOMY_TEXT, LEGAL, LEGAL.replace(*change))
    with pytest.raises(ConfigError) as info:
        load_taxonomy(path)
    expect(info.value, path, line_of(text, "{id: legal_request,"), "legal_request is a protected category")


def test_taxonomy_bad_duration_on_a_tier(tmp_path: Path) -> None:
    old = "  - {id: t2, name: Tier 2 specialists, first_response: 4h, resolution: 3d}"
    path, text = broken(tmp_path, TAXONOMY_TEXT, old, old.replace("3d", "5 weeks"))
    with pytest.raises(ConfigError) as info:
        load_taxonomy(path)
    expect(info.value, path, line_of(text, "{id: t2,"), "tiers.2.resolution", "5 weeks")


def test_taxonomy_bad_duration_points_at_its_own_line(tmp_path: Path) -> None:
    old = "  - id: out_of_scope\n    group: Other\n    tier: bot\n"
    path, text = broken(tmp_path, TAXONOMY_TEXT, old, old + "    first_response: 5 weeks\n")
    with pytest.raises(ConfigError) as info:
        load_taxonomy(path)
    expect(info.value, path, line_of(text, "first_response: 5 weeks"), "first_response", "5 weeks")


def test_taxonomy_category_without_tier(tmp_path: Path) -> None:
    path, text = broken(tmp_path, TAXONOMY_TEXT, CARD_ARRIVAL, CARD_ARRIVAL.replace("tier: t1, ", ""))
    with pytest.raises(ConfigError) as info:
        load_taxonomy(path)
    expect(info.value, path, line_of(text, "{id: card_arrival,"), "tier", "Field required")


def test_taxonomy_missing_tier_definition(tmp_path: Path) -> None:
    old = "  - {id: legal, name: Legal, first_response: 4h, resolution: 5d}\n"
    path, text = broken(tmp_path, TAXONOMY_TEXT, old, "")
    with pytest.raises(ConfigError) as info:
        load_taxonomy(path)
    expect(info.value, path, line_of(text, "\ntiers:") + 1, "tier 'legal' is missing")


def test_taxonomy_misspelt_key(tmp_path: Path) -> None:
    new = CARD_ARRIVAL.replace("bot_may_answer: true", "bot_may_anwser: true")
    path, text = broken(tmp_path, TAXONOMY_TEXT, CARD_ARRIVAL, new)
    with pytest.raises(ConfigError) as info:
        load_taxonomy(path)
    expect(info.value, path, line_of(text, "bot_may_anwser"), "categories.0")


def test_taxonomy_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.yaml"
    with pytest.raises(ConfigError) as info:
        load_taxonomy(path)
    assert str(info.value).startswith(f"{path}: cannot read")


def test_safety_unknown_category_names_its_line(tmp_path: Path) -> None:
    old = "categories:\n  legal_request:\n"
    path, text = broken(
        tmp_path, SAFETY_TEXT, old, "categories:\n  card_arrival:\n    - 'card'\n  legal_request:\n", "s.yaml"
    )
    with pytest.raises(ConfigError) as info:
        load_safety_rules(path)
    expect(info.value, path, line_of(text, "  card_arrival:"), "card_arrival is not a protected category")


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("'\\b(won a (lottery|prize)|lottery)\\b'", "'\\b(won a (lottery|prize)|lottery\\b'"),
        ("'\\b(any|are there any) humans?", "'\\b((any|are there any) humans?"),
    ],
)
def test_safety_invalid_regex_names_file_and_line(tmp_path: Path, old: str, new: str) -> None:
    path, text = broken(tmp_path, SAFETY_TEXT, old, new, "s.yaml")
    with pytest.raises(ConfigError) as info:
        load_safety_rules(path)
    expect(info.value, path, line_of(text, new))


ARTICLE = """---
id: test-article
title: Test article
categories: [card_arrival]
visibility: public
url: https://help.lumen.example/articles/test-article
updated: 2026-10-01
---
Where your card is.

## How long does delivery take?
Three to five working days.
"""


def write_article(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "test-article.md"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_article_loads(tmp_path: Path) -> None:
    article = load_article(write_article(tmp_path, ARTICLE))
    assert article.meta.id == "test-article"
    assert [s.id for s in article.sections] == ["test-article#intro", "test-article#how-long-does-delivery-take"]


def test_article_with_unknown_visibility(tmp_path: Path) -> None:
    path = write_article(tmp_path, ARTICLE.replace("visibility: public", "visibility: secret"))
    with pytest.raises(ConfigError) as info:
        load_article(path)
    expect(info.value, path, 5, "visibility")


def test_article_with_bad_date(tmp_path: Path) -> None:
    path = write_article(tmp_path, ARTICLE.replace("updated: 2026-10-01", "updated: last week"))
    with pytest.raises(ConfigError) as info:
        load_article(path)
    expect(info.value, path, 7, "updated")


def test_article_without_url_points_at_the_front_matter(tmp_path: Path) -> None:
    path = write_article(tmp_path, ARTICLE.replace("url: https://help.lumen.example/articles/test-article\n", ""))
    with pytest.raises(ConfigError) as info:
        load_article(path)
    expect(info.value, path, 2, "url", "Field required")


def test_article_with_broken_front_matter_yaml(tmp_path: Path) -> None:
    path = write_article(tmp_path, ARTICLE.replace("categories: [card_arrival]", "categories: [card_arrival"))
    with pytest.raises(ConfigError) as info:
        load_article(path)
    assert str(info.value).startswith(f"{path}:")
    assert info.value.line is not None and 4 <= info.value.line <= 8
    assert "invalid YAML" in str(info.value)


def test_article_without_front_matter(tmp_path: Path) -> None:
    path = write_article(tmp_path, "# Just a title\n\nSome text.\n")
    with pytest.raises(ConfigError) as info:
        load_article(path)
    expect(info.value, path, 1, "front matter")


def write_csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "labelled.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_labelled_csv_reads_rows(tmp_path: Path) -> None:
    path = write_csv(tmp_path, 'text,category\nWhere is my card?,card_arrival\n"Top up, how?",top_up_limits\n')
    assert read_labelled_csv([path]) == (["Where is my card?", "Top up, how?"], ["card_arrival", "top_up_limits"])


def test_labelled_csv_missing_column(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "text,label\nWhere is my card?,card_arrival\n")
    with pytest.raises(ConfigError) as info:
        read_labelled_csv([path])
    expect(info.value, path, 1, "text,category")


def test_labelled_csv_empty_category(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "text,category\nWhere is my card?,card_arrival\nHow do I top up?,\nok,card_arrival\n")
    with pytest.raises(ConfigError) as info:
        read_labelled_csv([path])
    expect(info.value, path, 3, "empty text or category")


def test_labelled_csv_empty_text_after_a_multiline_row(tmp_path: Path) -> None:
    path = write_csv(tmp_path, 'text,category\n"Where is\nmy card?",card_arrival\n  ,card_arrival\n')
    with pytest.raises(ConfigError) as info:
        read_labelled_csv([path])
    expect(info.value, path, 4, "empty text or category")


def test_labelled_csv_names_the_bad_file(tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_text("text,category\nWhere is my card?,card_arrival\n", encoding="utf-8")
    bad = write_csv(tmp_path, "text,category\n,card_arrival\n")
    with pytest.raises(ConfigError) as info:
        read_labelled_csv([good, bad])
    expect(info.value, bad, 2)

"""Broken configuration and data files fail with a ConfigError that names the file and the exact line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

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


# --- the command line: a configuration error is one line naming the setting, and exit status 2 -------------------

CLEAN_ENV = dict.fromkeys(("INTERCOM_ACCESS_TOKEN", "INTERCOM_BOT_ADMIN_ID", "AUTOPILOT_PORT", "CHROMA_HOST"))


def _cli(args: list[str], tmp_path: Path, **env: str) -> Result:
    from bot.cli import app

    values: dict[str, str | None] = {**CLEAN_ENV, "AUTOPILOT_DATA_DIR": str(tmp_path), **env}
    return CliRunner().invoke(app, args, env=values)


def one_line(result: Result) -> str:
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output
    return lines[0]


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_intercom_token_without_the_bot_admin_id(tmp_path: Path, command: str) -> None:
    line = one_line(_cli([command], tmp_path, INTERCOM_ACCESS_TOKEN="tok"))
    assert line.startswith("configuration error: INTERCOM_BOT_ADMIN_ID: is not set"), line
    assert "INTERCOM_ACCESS_TOKEN" in line


def test_a_malformed_setting_is_named_with_its_value(tmp_path: Path) -> None:
    line = one_line(_cli(["serve"], tmp_path, AUTOPILOT_PORT="eighty", EMBEDDING_BACKEND="gpu"))
    assert line.startswith("configuration error: "), line
    assert "AUTOPILOT_PORT: Input should be a valid integer" in line and "(got 'eighty')" in line
    assert "EMBEDDING_BACKEND: " in line and "(got 'gpu')" in line


def test_a_missing_data_file_is_one_line(tmp_path: Path) -> None:
    line = one_line(_cli(["demo", "--days", "1"], tmp_path, TAXONOMY_PATH=str(tmp_path / "nope.yaml")))
    assert line.startswith(f"configuration error: {tmp_path / 'nope.yaml'}: cannot read"), line


def test_serve_without_the_bot_admin_id_as_a_user_runs_it(tmp_path: Path) -> None:
    """The real console script: no rich traceback, one line on stderr, exit 2 (the reported case)."""
    env = {k: v for k, v in os.environ.items() if k not in CLEAN_ENV}
    env |= {"INTERCOM_ACCESS_TOKEN": "tok", "AUTOPILOT_DATA_DIR": str(tmp_path), "COLUMNS": "80"}
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "autopilot"), "serve"], env=env, cwd=tmp_path, capture_output=True,
        text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()], proc.stderr
    assert proc.stderr.startswith("configuration error: INTERCOM_BOT_ADMIN_ID: is not set")

"""Knowledge-base articles: Markdown with YAML front matter, chunked into sections for retrieval.

Front matter keys: ``id``, ``title``, ``categories``, ``visibility`` (public|internal), ``url`` and ``updated``.
Each ``## `` heading starts a section; text before the first heading is the article's introduction.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from automations.configfile import ConfigError, parse_yaml_model
from automations.models import Passage, Visibility

__all__ = ["Article", "ArticleMeta", "Section", "load_article", "split_front_matter"]

_HEADING = re.compile(r"^##\s+(.+?)\s*#*\s*$", re.MULTILINE)
_SLUG = re.compile(r"[^a-z0-9]+")


class ArticleMeta(BaseModel):
    """Validated front matter of an article."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    title: str = Field(min_length=1)
    categories: tuple[str, ...]
    visibility: Visibility
    url: str = Field(pattern=r"^https?://")
    updated: date


@dataclass(frozen=True, slots=True)
class Section:
    """One retrievable chunk of an article."""

    id: str
    heading: str
    body: str

    @property
    def embed_text(self) -> str:
        """Text that is embedded for retrieval: the heading carries most of the question's meaning."""
        return f"{self.heading}\n{self.body}"


@dataclass(frozen=True, slots=True)
class Article:
    """A parsed article with its sections and a content hash of its source file."""

    meta: ArticleMeta
    sections: tuple[Section, ...]
    source: str
    digest: str

    def passages(self) -> list[Passage]:
        """Each section as a passage (score 0), as the index would return it."""
        m = self.meta
        return [
            Passage(m.id, m.title, s.heading, s.body, m.url, m.visibility, m.categories, 0.0) for s in self.sections
        ]


def split_front_matter(text: str, path: Path | str) -> tuple[str, str, int]:
    """Split ``---``-delimited front matter from the body; returns (front matter, body, body's first line)."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise ConfigError(path, 1, "an article must start with '---' front matter")
    for i, line in enumerate(lines[1:], start=1):
        if line.strip() == "---":
            return "".join(lines[1:i]), "".join(lines[i + 1 :]), i + 2
    raise ConfigError(path, 1, "front matter is not closed with '---'")


def _slug(text: str) -> str:
    return _SLUG.sub("-", text.lower()).strip("-")[:60] or "section"


def _sections(meta: ArticleMeta, body: str) -> tuple[Section, ...]:
    parts = _HEADING.split(body)
    out: list[Section] = []
    intro = re.sub(r"^#\s+.*$", "", parts[0], flags=re.MULTILINE).strip()
    if intro:
        # an article without headings is all body (a short Help Center article): its text is the answer itself
        anchor = "intro" if len(parts) > 1 else "body"
        out.append(Section(id=f"{meta.id}#{anchor}", heading=meta.title, body=intro))
    seen: set[str] = set()
    for heading, text in zip(parts[1::2], parts[2::2], strict=True):
        slug = _slug(heading)
        while slug in seen:
            slug += "-2"
        seen.add(slug)
        if text.strip():
            out.append(Section(id=f"{meta.id}#{slug}", heading=heading.strip(), body=text.strip()))
    return tuple(out)


def load_article(path: Path, *, source: str | None = None) -> Article:
    """Parse one Markdown article; errors name the file and line."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(path, None, f"not UTF-8: {exc}") from exc
    front, body, _ = split_front_matter(text, path)
    meta = parse_yaml_model(front, ArticleMeta, path=path, line_offset=1)
    sections = _sections(meta, body)
    if not sections:
        raise ConfigError(path, None, "the article has no text")
    return Article(meta=meta, sections=sections, source=source or str(path), digest=hashlib.sha256(raw).hexdigest())

"""Prompt files: versioned YAML in the ``prompts`` package, with their variables checked when loaded.

A prompt file declares ``id`` (its file name), ``version``, ``variables`` and two templates, ``system`` and ``user``.
The system template takes no variables, so nothing from a message can reach the instructions. Each variable must
appear exactly once in the user template, alone between its own delimiter lines (``<question>``, ``{question}``,
``</question>``), and values are rendered as data: anything in them that looks like a delimiter tag is defused first.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from automations.configfile import ConfigError, Issue, load_yaml_model
from automations.llm.ports import ChatMessage, Role
from automations.resources import packaged

__all__ = ["DEFAULT_PROMPTS", "PromptFile", "PromptTemplate", "as_data", "load_prompt"]

DEFAULT_PROMPTS = packaged("prompts")
"""The templates shipped in the top-level ``prompts`` package."""
_TAG = re.compile(r"<\s*/?\s*[A-Za-z_][\w-]*\s*>")
_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")


class PromptFile(BaseModel):
    """The validated content of one prompt file."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    version: int = Field(ge=1)
    description: str = ""
    variables: tuple[str, ...] = Field(min_length=1)
    system: str = Field(min_length=1)
    user: str = Field(min_length=1)


def _fields(template: str) -> list[str]:
    """Replacement fields of a ``str.format`` template (raises ValueError on a malformed one)."""
    out = []
    for _, name, spec, conversion in string.Formatter().parse(template):
        if name is None:
            continue
        if not _IDENT.match(name) or spec or conversion:
            raise ValueError(f"{{{name}}}: only plain {{name}} fields are allowed")
        out.append(name)
    return out


def _check(prompt: PromptFile) -> Iterator[Issue]:
    try:
        system, user = _fields(prompt.system), _fields(prompt.user)
    except ValueError as exc:
        yield ("user",), f"malformed template: {exc}"
        return
    if system:
        yield ("system",), f"the system prompt must take no variables (found {', '.join(sorted(set(system)))})"
    declared = set(prompt.variables)
    if len(declared) != len(prompt.variables):
        yield ("variables",), "a variable is declared twice"
    for name in sorted(declared - set(user)):
        yield ("variables",), f"variable {name!r} is declared but not used in the user template"
    for name in sorted(set(user) - declared):
        yield ("user",), f"variable {name!r} is used but not declared"
    for name in sorted(declared & set(user)):
        if user.count(name) != 1:
            yield ("user",), f"variable {name!r} must appear exactly once"
        elif f"<{name}>\n{{{name}}}\n</{name}>" not in prompt.user:
            yield ("user",), f"variable {name!r} must stand alone between <{name}> and </{name}> lines"


def as_data(value: str) -> str:
    """Defuse anything in ``value`` that could close or open a delimiter tag, so it stays data."""
    return _TAG.sub(lambda m: m.group(0).replace("<", "‹").replace(">", "›"), value)


@dataclass(frozen=True, slots=True)
class PromptTemplate:
    """A loaded, checked prompt."""

    id: str
    version: int
    variables: tuple[str, ...]
    system: str
    user: str

    @property
    def label(self) -> str:
        """``id@vN``, recorded with what the prompt produced."""
        return f"{self.id}@v{self.version}"

    def render(self, values: Mapping[str, str]) -> tuple[ChatMessage, ChatMessage]:
        """The system and user messages, with every value rendered as delimited data."""
        missing, extra = set(self.variables) - set(values), set(values) - set(self.variables)
        if missing or extra:
            raise ValueError(f"{self.label}: missing {sorted(missing)}, unexpected {sorted(extra)}")
        user = self.user.format_map({k: as_data(v) for k, v in values.items()})
        return ChatMessage(Role.SYSTEM, self.system.strip()), ChatMessage(Role.USER, user.strip())


def load_prompt(name: str, folder: Path = DEFAULT_PROMPTS) -> PromptTemplate:
    """Load ``folder/name.yaml`` and check it; errors name the file and line (:class:`ConfigError`)."""
    path = folder / f"{name}.yaml"
    prompt = load_yaml_model(path, PromptFile, _check)
    if prompt.id != name:
        raise ConfigError(path, 1, f"id: {prompt.id!r} does not match the file name {name!r}")
    return PromptTemplate(prompt.id, prompt.version, prompt.variables, prompt.system, prompt.user)

"""Load YAML configuration files into pydantic models, with errors that name the file and line.

PyYAML's composed node tree keeps the position of every value; when pydantic rejects a value, the error's location
path is walked through that tree to report ``file:line: field: message``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

__all__ = ["ConfigError", "Issue", "load_yaml_model", "node_line", "parse_yaml_model"]

M = TypeVar("M", bound=BaseModel)


class ConfigError(ValueError):
    """A configuration or data file is invalid; the message starts with ``path:line:``."""

    def __init__(self, path: Path | str, line: int | None, message: str) -> None:
        self.path = Path(path)
        self.line = line
        where = f"{self.path}:{line}" if line is not None else f"{self.path}"
        super().__init__(f"{where}: {message}")


def _construct(node: yaml.Node) -> Any:
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_document(node)
    finally:
        loader.dispose()


def node_line(root: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """Return the 1-based line of the node at ``loc`` (a pydantic error location), or of its nearest parent."""
    node = root
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                    child = value
                    line = key.start_mark.line + 1
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            child = node.value[part]
            line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line


Issue = tuple[tuple[int | str, ...], str]


def load_yaml_model(path: Path | str, model: type[M], check: Callable[[M], Iterable[Issue]] | None = None) -> M:
    """Parse the YAML file at ``path`` and validate it as ``model``.

    ``check`` may return cross-field issues as ``(location, message)`` pairs after validation. Raises
    :class:`ConfigError` naming the file and line for unreadable files, YAML syntax errors, validation errors and
    issues alike.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(path, None, f"cannot read: {exc.strerror or exc}") from exc
    return parse_yaml_model(text, model, path=path, check=check)


def parse_yaml_model(
    text: str,
    model: type[M],
    *,
    path: Path | str,
    line_offset: int = 0,
    check: Callable[[M], Iterable[Issue]] | None = None,
) -> M:
    """Validate YAML ``text`` found ``line_offset`` lines into the file at ``path`` (see :func:`load_yaml_model`)."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = _construct(root) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 + line_offset if mark is not None else None
        raise ConfigError(path, line, f"invalid YAML: {exc.problem or exc}") from exc

    def where(loc: tuple[int | str, ...]) -> int | None:
        line = node_line(root, loc)
        return None if line is None else line + line_offset

    try:
        result = model.model_validate(data if data is not None else {})
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(first["loc"])
        extra = f" (and {exc.error_count() - 1} more errors)" if exc.error_count() > 1 else ""
        raise ConfigError(path, where(loc), f"{_dotted(loc)}: {first['msg']}{extra}") from exc
    for loc, message in check(result) if check is not None else ():
        raise ConfigError(path, where(loc), f"{_dotted(loc)}: {message}")
    return result


def _dotted(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(p) for p in loc) or "(document)"

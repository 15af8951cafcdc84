"""Configuration errors on one line: every ``autopilot`` command runs inside :class:`CliGroup`, which turns a bad
setting or file into ``configuration error: <what>`` on stderr and exit status 2, instead of a traceback.

Caught: :class:`~automations.configfile.ConfigError` (a file and line), :class:`~bot.settings.SettingError` (a
variable), pydantic's validation error of :class:`~bot.settings.Settings` (every rejected variable, by name) and a
missing file. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from typing import Any, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.text import Text
from typer.core import TyperGroup

from automations.configfile import ConfigError
from bot.settings import SettingError, Settings

__all__ = ["CliGroup", "settings_message"]

_err = Console(stderr=True)


def settings_message(exc: ValidationError) -> str:
    """Pydantic's report on :class:`Settings` on one line: ``AUTOPILOT_PORT: Input should be ... (got 'abc')``."""
    parts = []
    for error in exc.errors(include_url=False):
        name = ".".join(str(part) for part in error["loc"])
        got = f" (got {error['input']!r})" if isinstance(error.get("input"), str | int | float) else ""
        parts.append(f"{name}: {error['msg']}{got}")
    return "; ".join(parts)


def _fail(kind: str, message: str, exc: BaseException) -> NoReturn:
    _err.print(Text.assemble((f"{kind}:", "bold red"), f" {message}"), soft_wrap=True)  # one line, never wrapped
    raise typer.Exit(2) from exc


class CliGroup(TyperGroup):
    """The root ``autopilot`` group: configuration errors from any sub-command end in one line and exit 2."""

    def invoke(self, ctx: Any) -> Any:
        """Run the sub-command, reporting configuration errors on one line."""
        try:
            return super().invoke(ctx)
        except (ConfigError, SettingError) as exc:
            _fail("configuration error", str(exc), exc)
        except ValidationError as exc:
            if exc.title != Settings.__name__:
                raise
            _fail("configuration error", settings_message(exc), exc)
        except FileNotFoundError as exc:
            _fail("error", str(exc), exc)

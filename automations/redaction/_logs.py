"""Logging integration: a filter that redacts every record before a handler sees it."""

from __future__ import annotations

import logging

from ._core import Redactor, default_redactor

__all__ = ["RedactingFilter", "install_log_redaction"]


class RedactingFilter(logging.Filter):
    """Logging filter that formats a record's message, redacts it and clears ``args``, so no raw PII reaches a handler.

    Exception and stack text are redacted too. The filter never drops a record.
    """

    def __init__(self, redactor: Redactor | None = None) -> None:
        super().__init__()
        self._redactor = redactor if redactor is not None else default_redactor()

    def _clean(self, text: str) -> str:
        return self._redactor.redact(text).text

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact ``record`` in place; always keep it."""
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # mismatched format args: keep everything, redacted
            message = f"{record.msg} {record.args!r}"
        record.msg = self._clean(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._clean(record.exc_text)
        if record.stack_info:
            record.stack_info = self._clean(record.stack_info)
        return True


def install_log_redaction(logger: logging.Logger | None = None) -> RedactingFilter:
    """Add a :class:`RedactingFilter` to ``logger`` (default: the root logger) and to each of its current handlers.

    Handler filters also catch records propagated from child loggers; handlers added later need the filter too.
    Calling this again reuses the installed filter.
    """
    target = logger if logger is not None else logging.getLogger()
    installed = next((f for f in target.filters if isinstance(f, RedactingFilter)), None)
    flt = installed if installed is not None else RedactingFilter()
    if installed is None:
        target.addFilter(flt)
    for handler in target.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(flt)
    return flt

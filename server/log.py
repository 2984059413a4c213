"""structlog set-up: readable console lines by default, JSON lines with --log-json.

Loggers are bound with `session` and `character` by the connection code, so each
line says whose it is.

What gets written is made safe first (`scrub`): values under a secret's name
(`password`, `api_key`...) become `********`, and strings lose their control and bidi
characters (`wire.clean_text`, newlines too), so no value can forge a log line or
drive the terminal of whoever reads the log.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

from server.wire import clean_text

SECRET_KEYS = frozenset({"password", "passwd", "new_password", "old_password", "api_key",
                         "secret", "token", "authorization"})
"""Log keys whose values are never written."""


def scrub(_logger: Any, _method: str, event: dict[str, Any]) -> dict[str, Any]:
    """A structlog processor: secrets masked, strings cleaned (see the module docstring)."""
    for key, value in event.items():
        if key.lower() in SECRET_KEYS:
            event[key] = "********"
        elif isinstance(value, str):
            event[key] = clean_text(value, newlines=False)
    return event


def configure(json: bool = False, level: str = "info") -> None:
    """Set up structlog (and stdlib logging, for libraries) once per process."""
    lvl = logging.getLevelName(level.upper())
    if not isinstance(lvl, int):
        lvl = logging.INFO
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        scrub,
    ]
    if json:
        processors += [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
    else:
        # Plain tracebacks: rich's (the default when rich is installed) print every
        # frame's local variables, and a login's locals hold its password.
        processors += [structlog.dev.ConsoleRenderer(
            colors=sys.stderr.isatty(), exception_formatter=structlog.dev.plain_traceback)]
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(lvl),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    logging.basicConfig(level=max(lvl, logging.WARNING), stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")


def get(**bound: Any) -> Any:
    """A logger bound with `bound` (e.g. session="s12", character="Ann")."""
    return structlog.get_logger("aegent").bind(**bound)

"""structlog set-up: readable console lines by default, JSON lines with --log-json.

Loggers are bound with `session` and `character` by the connection code, so each
line says whose it is.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog


def configure(json: bool = False, level: str = "info") -> None:
    """Set up structlog (and stdlib logging, for libraries) once per process."""
    lvl = logging.getLevelName(level.upper())
    if not isinstance(lvl, int):
        lvl = logging.INFO
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    if json:
        processors += [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
    else:
        processors += [structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())]
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

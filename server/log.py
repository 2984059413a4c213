"""structlog set-up: readable console lines by default, JSON lines with --log-json.

Loggers are bound with `session` and `character` by the connection code, so each
line says whose it is. Standard-library log records (asyncio, alembic, websockets,
qdrant...) go through the same renderer (structlog's `ProcessorFormatter`), so with
--log-json every line on stderr is one JSON object.

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
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        scrub,
    ]
    renderer: list[Any]
    if json:
        renderer = [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
    else:
        # Plain tracebacks: rich's (the default when rich is installed) print every
        # frame's local variables, and a login's locals hold its password.
        renderer = [structlog.dev.ConsoleRenderer(
            colors=sys.stderr.isatty(), exception_formatter=structlog.dev.plain_traceback)]
    processors = shared + renderer
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(lvl),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    # The standard library's records: the same processors, through one handler of ours
    # on the root logger (a second configure() replaces it; others' handlers stay).
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_HANDLER)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *renderer]))
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(max(lvl, logging.WARNING))


_HANDLER = "aegent-structlog"


def get(**bound: Any) -> Any:
    """A logger bound with `bound` (e.g. session="s12", character="Ann")."""
    return structlog.get_logger("aegent").bind(**bound)

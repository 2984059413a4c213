"""server/log.py: what the server's log set-up writes, in both formats: no secret under a
secret's name, no control characters from values (no forged lines, nothing that drives the
reader's terminal), no local variables in tracebacks."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest
import structlog

from server import log

LOCAL_SECRET = "hunter3-secret"  # only ever in a local variable of a failing frame
FORGED = "Bob\x1b[2J\n2026-01-01 [info     ] admin_logged_in \u202eevil\x07"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    saved = structlog.get_config()
    try:
        yield
    finally:
        structlog.configure(**saved)


def written(json_lines: bool) -> str:
    """Log one line with hostile values and one exception, as the server would."""
    buf = io.StringIO()
    log.configure(json=json_lines, level="debug")
    structlog.configure(logger_factory=structlog.WriteLoggerFactory(file=buf))
    logger = log.get(session="s1")
    logger.info("login_failed", name=FORGED, password="hunter2-secret", api_key="aq_x_y")

    def change(new_password: str) -> None:
        raise RuntimeError("database gone")

    try:
        change(LOCAL_SECRET)
    except RuntimeError as exc:
        logger.error("auth_crashed", exc_info=exc)
    return buf.getvalue()


@pytest.mark.parametrize("json_lines", [False, True])
@pytest.mark.usefixtures("restore_logging")
def test_log_lines_hold_no_secret_and_no_control_character(json_lines: bool) -> None:
    out = written(json_lines)
    for secret in ("hunter2-secret", "aq_x_y", LOCAL_SECRET):
        assert secret not in out
    first = out.split("\n", 1)[0]
    assert "admin_logged_in" in first  # the forged "line" stayed inside the real one
    for c in "\x1b\x07\u202e":
        assert c not in out
    if json_lines:
        entry = json.loads(first)
        assert entry["password"] == "********" and entry["name"].startswith("Bob[2J ")
    assert "RuntimeError: database gone" in out  # the traceback is there, plain

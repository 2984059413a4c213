"""server/log.py: what the server's log set-up writes, in both formats: no secret under a
secret's name, no control characters from values (no forged lines, nothing that drives the
reader's terminal), no local variables in tracebacks."""

from __future__ import annotations

import io
import json
import logging
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


@pytest.fixture
def restore_root_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


@pytest.mark.usefixtures("restore_logging", "restore_root_logging")
def test_standard_library_records_are_json_lines_too(capsys: pytest.CaptureFixture[str]) -> None:
    """With --log-json, a library's `logging` record (asyncio, alembic, websockets) is one
    JSON object like the server's own, scrubbed the same way; configuring twice installs
    one handler, not two."""
    log.configure(json=True, level="info")
    log.configure(json=True, level="info")
    logging.getLogger("websockets.server").warning("odd frame from %s", "Bob\x1b[2J")
    logging.getLogger("alembic").info("below warning: not written")
    try:
        raise ValueError("bad migration")
    except ValueError:
        logging.getLogger("alembic").exception("migration failed")
    log.get(session="s1").info("server_started", port=1)
    lines = capsys.readouterr().err.splitlines()
    records = [json.loads(line) for line in lines]  # every line is JSON
    assert [r["event"] for r in records] == ["odd frame from Bob[2J", "migration failed",
                                             "server_started"]
    assert records[0]["logger"] == "websockets.server" and records[0]["level"] == "warning"
    assert "timestamp" in records[0]
    assert "ValueError: bad migration" in records[1]["exception"]

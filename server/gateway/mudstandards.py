"""The MUD community's WebSocket subprotocols (https://mudstandards.org/websocket/).

Sessions on these are text-mode sessions like `aegent.text` (the login dialogue,
ANSI text ending with the prompt); only the framing differs, and `ws.py` does it
with these pure functions:

| subprotocol | BINARY frames (both ways) | TEXT frames (both ways) |
| --- | --- | --- |
| `terminal.mudstandards.org` | ANSI text, UTF-8 | none (from the client: input, too) |
| `gmcp.mudstandards.org` | ANSI text, UTF-8 | GMCP, `Package.Name <JSON>` |
| `json.mudstandards.org` | ANSI text, UTF-8 | envelopes `{"proto", "id", "data"}` |

In json.mudstandards.org envelopes GMCP is proto `gmcp`, the package its id and
the JSON its data, as a string; envelopes of other protocols are ignored.

Out-of-band messages from the client come out of `decode_oob` as (package, data)
GMCP pairs whichever of the two framings carried them; anything unreadable (JSON
nested deeper than `wire.MAX_DEPTH` included) is a `WireError` whose message is meant
for the player.
"""

from __future__ import annotations

import json
import re
from typing import Any

from server.wire import ErrorCode, Subprotocol, WireError, loads

OOB = frozenset({Subprotocol.MUD_GMCP, Subprotocol.MUD_JSON})  # those with a GMCP channel
PACKAGE = re.compile(r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*")
MAX_PACKAGE = 64
EXAMPLE = 'Core.Hello {"client":"MyClient","version":"1.0"}'
ENVELOPE = '{"proto":"gmcp","id":"Core.Hello","data":"{\\"client\\":\\"MyClient\\"}"}'

GmcpPair = tuple[str, Any]


def terminal_bytes(text: str) -> bytes:
    """Session text (`\\n` line ends) as a terminal stream: UTF-8 with CR LF line ends."""
    text = text.replace("\r\n", "\n").replace("\r", "")
    return text.replace("\n", "\r\n").encode("utf-8")


def _json(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def encode_gmcp(package: str, data: Any = None) -> str:
    """A GMCP text frame: `Package.Name` and, if there is data, a space and its JSON."""
    return package if data is None else f"{package} {_json(data)}"


def encode_envelope(proto: str, id: str, data: str) -> str:
    """A json.mudstandards.org envelope."""
    return _json({"proto": proto, "id": id, "data": data})


def encode_oob(kind: Subprotocol, package: str, data: Any = None) -> str:
    """A GMCP message as a TEXT frame of `kind` (gmcp or json.mudstandards.org)."""
    if kind is Subprotocol.MUD_JSON:
        return encode_envelope("gmcp", package, "" if data is None else _json(data))
    if kind is Subprotocol.MUD_GMCP:
        return encode_gmcp(package, data)
    raise ValueError(f"{kind} has no out-of-band channel")


def _package(name: str) -> str:
    name = name.strip()
    if not name:
        raise WireError(ErrorCode.BAD_MESSAGE, "That GMCP message has no package name: "
                        f"send 'Package.Name <JSON>', as in {EXAMPLE!r}.")
    if len(name) > MAX_PACKAGE or not PACKAGE.fullmatch(name):
        raise WireError(ErrorCode.BAD_MESSAGE,
                        f"{name[:MAX_PACKAGE]!r} is not a GMCP package name: "
                        "words joined by dots, as in 'Core.Hello'.")
    return name


def _payload(body: str, package: str) -> Any:
    body = body.strip()
    if not body:
        return None
    try:
        return loads(body)  # refuses nesting deeper than wire.MAX_DEPTH: no RecursionError
    except ValueError as exc:
        raise WireError(ErrorCode.BAD_JSON,
                        f"The data of GMCP {package} is not valid JSON ({exc}).") from None


def parse_gmcp(text: str) -> GmcpPair:
    """Read a GMCP text frame, `Package.Name [JSON]`.

    Raises:
        WireError: no or a bad package name (`bad_message`), data that is not JSON (`bad_json`).
    """
    name, _, body = text.strip().partition(" ")
    package = _package(name)
    return package, _payload(body, package)


def parse_envelope(text: str) -> tuple[str, str, str]:
    """Read a json.mudstandards.org envelope into (proto, id, data); id and data may be absent.

    Raises:
        WireError: not a JSON object (`bad_json`, `bad_message`), no `proto`
            (`missing_field`), a field that is not a string (`bad_field`).
    """
    try:
        msg = loads(text)
    except ValueError as exc:
        raise WireError(ErrorCode.BAD_JSON, f"That text frame is not valid JSON ({exc}): "
                        f"send an envelope such as {ENVELOPE}.") from None
    if not isinstance(msg, dict):
        raise WireError(ErrorCode.BAD_MESSAGE, "That text frame is not a JSON object: "
                        f"send an envelope such as {ENVELOPE}.")
    proto = msg.get("proto")
    if proto is None or proto == "":
        raise WireError(ErrorCode.MISSING_FIELD,
                        f"That envelope has no 'proto': send one such as {ENVELOPE}.")
    fields: dict[str, str] = {}
    for key, value in (("proto", proto), ("id", msg.get("id", "")), ("data", msg.get("data", ""))):
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise WireError(ErrorCode.BAD_FIELD, f"That envelope's '{key}' must be a string.")
        fields[key] = value
    return fields["proto"], fields["id"], fields["data"]


def decode_oob(kind: Subprotocol, text: str) -> GmcpPair | None:
    """A TEXT frame of `kind` as a GMCP (package, data) pair; None for other envelopes.

    Raises:
        WireError: a frame that cannot be read, with a message for the player.
    """
    if kind is Subprotocol.MUD_GMCP:
        return parse_gmcp(text)
    if kind is not Subprotocol.MUD_JSON:
        raise ValueError(f"{kind} has no out-of-band channel")
    proto, id, data = parse_envelope(text)
    if proto.lower() != "gmcp":
        return None
    package = _package(id)
    return package, _payload(data, package)

"""A2A (Agent2Agent) on the wire, as plain data: the Agent Card and JSON-RPC.

Pure functions, no I/O: server/host/a2a.py serves what they make. The shapes are those of
A2A 1.0 in its JSON form (protobuf JSON: camelCase names, enums by name), as the
`a2a-sdk` 1.x client sends and reads them; `message/send` in the shape of A2A 0.3 is
answered too, for older clients.

* `agent_card`: the card of one agent: its name, its owner (as the provider and in
  the description), one skill for its answers and one per command category its key's
  scopes grant (`skills`), the JSON-RPC interface at `<base>/a2a/<name>` and the
  bearer scheme (the owner's API key).
* `parse_call`: a request body to an `RpcCall`, or an `RpcError` with its code.
* `message_text`: the text of the message in a `SendMessage` (or `message/send`).
* `reply_result`, `rpc_result`, `rpc_error`: the response bodies.

Error codes are JSON-RPC's and A2A's (-32001 to -32009), and ours for what the game
adds, in the server-error range: `AGENT_OFFLINE`, `AGENT_BUSY`, `NO_REPLY`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from world.commands.registry import Registry
from world.entities import Role

PROTOCOL_VERSION = "1.0"
"""The A2A version the card announces (the `a2a-sdk` 1.x client speaks it)."""

LEGACY_VERSION = "0.3"
"""The older version whose `message/send` is answered too."""

PREFIX = "/a2a/"
"""Every A2A path starts with this; then the agent's name."""

CARD_PATH = "/.well-known/agent-card.json"
"""Where an agent's card is, below `<base>/a2a/<name>`."""

ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"
DOMAIN = "aegent.quest"

# JSON-RPC 2.0
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
# A2A
TASK_NOT_FOUND = -32001
UNSUPPORTED_OPERATION = -32004
EXTENDED_CARD_NOT_CONFIGURED = -32007
VERSION_NOT_SUPPORTED = -32009
# Ours (the game's), in the implementation-defined server-error range
AGENT_OFFLINE = -32050
AGENT_BUSY = -32051
NO_REPLY = -32052

SEND = ("SendMessage", "message/send")
STREAM = ("SendStreamingMessage", "message/stream")
TASKS = ("GetTask", "CancelTask", "ListTasks", "SubscribeToTask", "tasks/get", "tasks/cancel",
         "tasks/resubscribe", "tasks/list")
PUSH = ("CreateTaskPushNotificationConfig", "GetTaskPushNotificationConfig",
        "ListTaskPushNotificationConfigs", "DeleteTaskPushNotificationConfig",
        "tasks/pushNotificationConfig/set", "tasks/pushNotificationConfig/get",
        "tasks/pushNotificationConfig/list", "tasks/pushNotificationConfig/delete")
CARD_METHODS = ("GetExtendedAgentCard", "agent/getAuthenticatedExtendedCard")
MAX_ID = 128  # characters of a string request id, or of a contextId we echo


class RpcError(Exception):
    """A JSON-RPC error to answer with: its `code`, `message` and a stable `reason`."""

    def __init__(self, code: int, message: str, reason: str,
                 metadata: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason
        self.metadata = dict(metadata or {})


@dataclass(frozen=True, slots=True)
class RpcCall:
    """A JSON-RPC request: `id` (echoed), `method`, `params`."""

    id: str | int | None
    method: str
    params: dict[str, Any]

    @property
    def legacy(self) -> bool:
        """Whether it uses A2A 0.3's method names (and so its shapes)."""
        return "/" in self.method


# ---- the card ---------------------------------------------------------------------------


def base_url(public_url: str, host: str, port: int) -> str:
    """The server's address for links given out: `public_url` when set, else
    `http://<host>:<port>` (a wildcard host as localhost, an IPv6 one in brackets)."""
    if public_url:
        return public_url.rstrip("/")
    if host in ("", "0.0.0.0", "::", "[::]"):
        host = "localhost"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


def agent_url(base: str, name: str) -> str:
    """The JSON-RPC endpoint of agent `name` (also the base its card's path is below)."""
    return f"{base.rstrip('/')}{PREFIX}{name}"


def card_url(base: str, name: str) -> str:
    """Where the card of agent `name` is served."""
    return agent_url(base, name) + CARD_PATH


def granted(scopes: Iterable[str], categories: Iterable[str]) -> list[str]:
    """The command categories that `scopes` grant, sorted (`*`: all of them)."""
    wanted = set(scopes)
    known = sorted(set(categories))
    return known if "*" in wanted or not wanted else [c for c in known if c in wanted]


def skills(scopes: Iterable[str], registry: Registry) -> list[dict[str, Any]]:
    """What the agent can do, as A2A skills: answering its owner, then one skill per
    command category its key grants (the commands a player may use in it, with
    examples)."""
    out: list[dict[str, Any]] = [{
        "id": "answer",
        "name": "Answer its owner",
        "description": ("A message reaches the agent in the game as a tell from its owner; "
                        "its answer is its next tell to its owner (a scripted agent reports "
                        "its level, health, place and what it is doing)."),
        "tags": ["chat", "status"],
        "examples": ["How are you doing?", "Where are you?"],
        "inputModes": ["text/plain"],
        "outputModes": ["text/plain"],
    }]
    by_category: dict[str, list[Any]] = {}
    for spec in registry.specs.values():
        if spec.role is Role.PLAYER:
            by_category.setdefault(spec.category, []).append(spec)
    for category in granted(scopes, by_category):
        specs = sorted(by_category[category], key=lambda s: s.name)
        examples = [s.examples[0] for s in specs if s.examples][:5]
        out.append({
            "id": f"game.{category}",
            "name": f"{category.capitalize()} commands",
            "description": (f"In the game its API key lets it use the {category} commands: "
                            + ", ".join(s.name for s in specs) + "."),
            "tags": ["game", category],
            "examples": examples,
        })
    return out


def agent_card(name: str, owner: str, scopes: Iterable[str], registry: Registry, base: str,
               world: str, version: str) -> dict[str, Any]:
    """The Agent Card of agent `name`, owned by the person `owner` (A2A 1.0 JSON).

    Args:
        name: the agent's name as spelled.
        owner: its owner's name as spelled.
        scopes: its live key's scopes (command categories, or `*`).
        registry: the game's commands (for the skills).
        base: the server's address as clients reach it (`http://host:port`).
        world: the game world's name.
        version: the server's version.
    """
    return {
        "name": name,
        "description": (f"[AI] {name}, an AI agent playing in {world}, owned by {owner}. "
                        f"Messages reach it in the game as tells from {owner}; its answer "
                        f"comes back as the reply. Only {owner}'s API keys are accepted."),
        "supportedInterfaces": [{"url": agent_url(base, name), "protocolBinding": "JSONRPC",
                                 "protocolVersion": PROTOCOL_VERSION}],
        "provider": {"organization": owner, "url": base.rstrip("/") + "/"},
        "version": version,
        "capabilities": {"streaming": False, "pushNotifications": False,
                         "extendedAgentCard": False},
        "securitySchemes": {"ownerKey": {"httpAuthSecurityScheme": {
            "scheme": "Bearer", "bearerFormat": "aq_<key_id>_<secret>",
            "description": f"an API key of one of {owner}'s agents"}}},
        "securityRequirements": [{"schemes": {"ownerKey": {"list": []}}}],
        "defaultInputModes": ["text/plain"],
        "defaultOutputModes": ["text/plain"],
        "skills": skills(scopes, registry),
    }


# ---- JSON-RPC ------------------------------------------------------------------------------


def _id_of(msg: Mapping[str, Any]) -> str | int | None:
    value = msg.get("id")
    if value is None or (isinstance(value, str) and len(value) <= MAX_ID):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**63:
        return value
    raise RpcError(INVALID_REQUEST, "The request id must be a string of at most 128 "
                                    "characters, an integer or null.", "INVALID_REQUEST")


def parse_call(body: bytes) -> RpcCall:
    """A JSON-RPC 2.0 request from an HTTP body.

    Raises:
        RpcError: -32700 not JSON (or nested too deep), -32600 not one request object
            (batches are not taken).
    """
    try:
        msg = json.loads(body.decode("utf-8"))
    except (ValueError, RecursionError):
        raise RpcError(PARSE_ERROR, "The body is not JSON.", "PARSE_ERROR") from None
    if isinstance(msg, list):
        raise RpcError(INVALID_REQUEST, "Batch requests are not supported; send one request.",
                       "INVALID_REQUEST")
    if not isinstance(msg, dict) or msg.get("jsonrpc") != "2.0":
        raise RpcError(INVALID_REQUEST, "A JSON-RPC 2.0 request object is expected.",
                       "INVALID_REQUEST")
    method = msg.get("method")
    if not isinstance(method, str) or not method:
        raise RpcError(INVALID_REQUEST, "The request has no method.", "INVALID_REQUEST")
    params = msg.get("params", {})
    if not isinstance(params, dict):
        raise RpcError(INVALID_PARAMS, "params must be an object.", "INVALID_PARAMS")
    return RpcCall(_id_of(msg), method[:64], params)


def request_id(body: bytes) -> str | int | None:
    """The id of a request body, if it has a usable one (to answer an error with it)."""
    try:
        msg = json.loads(body.decode("utf-8"))
        return _id_of(msg) if isinstance(msg, dict) else None
    except (ValueError, RecursionError, RpcError):
        return None


def refuse_method(call: RpcCall) -> None:
    """Raise the error for any method but sending a message.

    Raises:
        RpcError: -32004 streaming or push notifications, -32001 tasks (none are kept:
            the answer is a message), -32007 the extended card, -32601 anything else.
    """
    method = call.method
    if method in SEND:
        return
    if method in STREAM or method in PUSH:
        raise RpcError(UNSUPPORTED_OPERATION, f"{method} is not supported: this agent "
                       "answers each message with one message (SendMessage).",
                       "UNSUPPORTED_OPERATION")
    if method in TASKS:
        raise RpcError(TASK_NOT_FOUND, "This agent keeps no tasks: each message is "
                       "answered with a message.", "TASK_NOT_FOUND")
    if method in CARD_METHODS:
        raise RpcError(EXTENDED_CARD_NOT_CONFIGURED, "There is no extended agent card.",
                       "EXTENDED_AGENT_CARD_NOT_CONFIGURED")
    raise RpcError(METHOD_NOT_FOUND, f"No method {method!r}; use SendMessage.",
                   "METHOD_NOT_FOUND")


def check_version(header: str | None) -> None:
    """Refuse an `A2A-Version` this server does not speak (none given: fine).

    Raises:
        RpcError: -32009.
    """
    if header is None:
        return
    given = header.strip()
    major_minor = ".".join(given.split(".")[:2])
    if given and major_minor not in (PROTOCOL_VERSION, LEGACY_VERSION, "1"):
        raise RpcError(VERSION_NOT_SUPPORTED, f"A2A version {given[:20]!r} is not "
                       f"supported; this server speaks {PROTOCOL_VERSION} (and "
                       f"{LEGACY_VERSION}'s message/send).", "VERSION_NOT_SUPPORTED")


def message_text(call: RpcCall) -> tuple[str, str | None]:
    """The text of the message sent, and its `contextId` (if a usable one).

    Text parts are joined with line breaks; other parts (files, data) are not read.

    Raises:
        RpcError: -32602 no message, or no text in it.
    """
    message = call.params.get("message")
    if not isinstance(message, dict):
        raise RpcError(INVALID_PARAMS, "params.message must be a message object.",
                       "INVALID_PARAMS")
    parts = message.get("parts")
    if not isinstance(parts, list):
        raise RpcError(INVALID_PARAMS, "The message has no parts.", "INVALID_PARAMS")
    texts = [p["text"] for p in parts
             if isinstance(p, dict) and isinstance(p.get("text"), str)
             and p.get("kind", "text") == "text"]
    if not texts:
        raise RpcError(INVALID_PARAMS, "The message has no text part.", "INVALID_PARAMS")
    context = message.get("contextId")
    usable = context if isinstance(context, str) and 0 < len(context) <= MAX_ID else None
    return "\n".join(texts), usable


def reply_result(text: str, context: str | None, agent: str, owner: str, legacy: bool
                 ) -> dict[str, Any]:
    """The `result` answering a message with the agent's `text`: a SendMessageResponse
    holding a message (A2A 1.0), or the message itself (0.3's `message/send`)."""
    message_id = uuid.uuid4().hex
    context_id = context or uuid.uuid4().hex
    metadata = {"agent": agent, "owner": owner}
    if legacy:
        return {"kind": "message", "messageId": message_id, "contextId": context_id,
                "role": "agent", "parts": [{"kind": "text", "text": text}],
                "metadata": metadata}
    return {"message": {"messageId": message_id, "contextId": context_id,
                        "role": "ROLE_AGENT", "parts": [{"text": text}],
                        "metadata": metadata}}


def rpc_result(id: str | int | None, result: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON-RPC success response."""
    return {"jsonrpc": "2.0", "id": id, "result": dict(result)}


def rpc_error(id: str | int | None, error: RpcError) -> dict[str, Any]:
    """A JSON-RPC error response; `data` carries a google.rpc.ErrorInfo with the stable
    `reason` (what the `a2a-sdk` client reads into the error's `data`)."""
    return {"jsonrpc": "2.0", "id": id, "error": {
        "code": error.code, "message": error.message,
        "data": [{"@type": ERROR_INFO, "reason": error.reason, "domain": DOMAIN,
                  "metadata": error.metadata}]}}
